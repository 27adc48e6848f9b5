"""Answers to questions about the medicine, from the drug document."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.core import assess, result_events, utter_guidance


class ActionAnswerInfo(Action):
    def name(self) -> str:
        return "action_answer_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = (tracker.latest_message or {}).get("text") or ""
        result = assess(tracker, text)
        if result.level != "info" or not result.categories:
            dispatcher.utter_message(response="utter_fallback")
            return []
        utter_guidance(dispatcher, result, result.infusion_window)
        return result_events(tracker, result)
