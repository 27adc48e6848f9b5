"""Session start: slots carry over, and the disclaimer is due.

It is said in the session's first reply (actions/core.py `disclaimer`): first, or after
the advice when the message holds a red flag; at once when a chat opens with no message.
A session starts before the message that starts it is read, so it cannot be said here.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.core import DISCLAIMER_DUE

# Kept across sessions: the conversation level never goes down by itself.
CARRIED_SLOTS = ("conversation_level", "categories", "lang", "language", "handoff_requested")


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [SessionStarted()]
        for slot in CARRIED_SLOTS:
            value = tracker.get_slot(slot)
            if value is not None:
                events.append(SlotSet(slot, value))
        events.append(SlotSet(DISCLAIMER_DUE, True))
        events.append(ActionExecuted("action_listen"))
        return events
