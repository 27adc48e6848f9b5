"""Answers to questions about the medicine, from the drug document."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.core import TriageAction, result_events


class ActionAnswerInfo(TriageAction):
    def name(self) -> str:
        return "action_answer_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        result = self.decision(tracker).result
        if result is None or result.level != "info" or not result.categories:
            dispatcher.utter_message(response="utter_fallback")
            return []
        self.utter_result(dispatcher, tracker, result, alerting=False)
        return result_events(tracker, result, self.triager)
