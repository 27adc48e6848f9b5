"""The first action of every turn: the turn decided once, before anything else is said.

Our runner makes the decision itself and hands it over (app/dialogue/runner.py); a Rasa
server follows data/rules.yml, whose first step after every message is this action, which
then makes the turn's one decision with the conversation's slots. Either way it picks the
rule of app/dialogue/policy.py that decides the turn and sets the `turn` slot to its name;
the next steps of Rasa's rule of that name are the actions our runner runs. The reply's
language is set here, so Rasa picks the responses' `language` variations, and a due
disclaimer is said first unless the message holds a red flag (then it follows the advice).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.core import TriageAction, disclaimer
from app.dialogue.domain import default_domain
from app.dialogue.language import LANGUAGE_SLOT, message_language
from app.dialogue.policy import RED, TURN_SLOT, TurnFacts, decide_turn


class ActionDecideTurn(TriageAction):
    def name(self) -> str:
        return "action_decide_turn"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        slots = tracker.current_slot_values()
        decision = self.decision(tracker)
        text = (tracker.latest_message or {}).get("text") or ""
        current = slots.get(LANGUAGE_SLOT) or "en"
        language = message_language(
            text, decision.parse.get("lang"), current, default_domain().button_texts
        )
        turn = decide_turn(TurnFacts.of(decision, slots))
        events = [SlotSet(TURN_SLOT, turn.name), SlotSet(LANGUAGE_SLOT, language)]
        if decision.level not in RED:  # a red flag's advice comes first (actions/triage.py)
            events += disclaimer(dispatcher, tracker, language)
        return events
