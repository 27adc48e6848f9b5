"""A closing word (thanks, goodbye) in an emergency or urgent conversation: the advice
that still stands, said once more."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.core import TriageAction
from app.dialogue.language import LANGUAGE_SLOT
from app.triage.reply import response_line


class ActionRemindLevel(TriageAction):
    def name(self) -> str:
        return "action_remind_level"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        name = f"utter_still_{tracker.get_slot('conversation_level')}"
        protocol = self.triager.protocol.for_language(tracker.get_slot(LANGUAGE_SLOT))
        if name in protocol.responses:
            line = response_line(protocol, name)
            if line is not None:
                dispatcher.utter_message(text=line.text, json_message=line.custom())
        return []
