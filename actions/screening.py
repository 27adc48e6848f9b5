"""Red-flag screening after a routine symptom, and the patient's answer to it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.core import say

SCREEN_QUESTION = "red_flag_screen"


class ActionRedFlagScreen(Action):
    def name(self) -> str:
        return "action_red_flag_screen"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("pending_question"):  # another question is open: ask one at a time
            return []
        say(dispatcher, tracker, "utter_red_flag_screen")
        return [SlotSet("pending_question", SCREEN_QUESTION)]


class ActionUnrecognisedScreen(Action):
    """A complaint the NLU could not place: ask for the red flags with buttons instead of
    "I did not understand" (each button's payload is a message triaged like any other)."""

    def name(self) -> str:
        return "action_unrecognised_screen"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        say(dispatcher, tracker, "utter_unrecognised_screen")
        if tracker.get_slot("pending_question"):  # keep the open question (timing) open
            return []
        return [SlotSet("pending_question", SCREEN_QUESTION)]


class ActionScreenAnswer(Action):
    def name(self) -> str:
        return "action_screen_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent == "affirm":
            say(dispatcher, tracker, "utter_screen_positive")
        else:
            say(dispatcher, tracker, "utter_screen_negative")
        return [SlotSet("pending_question", None)]
