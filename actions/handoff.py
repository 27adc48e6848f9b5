"""Human handoff: the patient asked for a person; a coordinator is alerted."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.core import TriageAction, say
from app.dialogue.language import LANGUAGE_SLOT


class ActionHandoff(TriageAction):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        protocol = self.triager.protocol.for_language(tracker.get_slot(LANGUAGE_SLOT))
        notice = self.clinic.notice(words=protocol.clinic_words)
        say(
            dispatcher,
            tracker,
            "utter_handoff" if notice.clinic_open else "utter_handoff_closed",
            hours=notice.hours,
            reply_time=notice.reply_time,
        )
        return [SlotSet("handoff_requested", True)]
