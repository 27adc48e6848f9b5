"""Triage of the patient's message, and of the waiting symptoms once the timing is known."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.core import TriageAction, disclaimer, result_events, say
from app.dialogue.decision import WINDOW_QUESTION, TurnDecision


def _question_events(decision: TurnDecision) -> list[dict[str, Any]]:
    """Open the timing question with the symptoms waiting for it, or close it."""
    if decision.asks_window:
        return [
            SlotSet("pending_question", WINDOW_QUESTION),
            SlotSet("pending_symptoms", decision.mentions),
        ]
    return [SlotSet("pending_question", None), SlotSet("pending_symptoms", None)]


class ActionTriageMessage(TriageAction):
    """Escalate, advise, or ask when the infusion was."""

    def name(self) -> str:
        return "action_triage_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        decision = self.decision(tracker)
        result = decision.result
        if result is None:
            dispatcher.utter_message(response="utter_fallback")
            return []
        events = result_events(tracker, result, self.triager)
        known = tracker.get_slot("infusion_window") or "unknown"
        if result.infusion_window not in ("unknown", known):
            events.append(SlotSet("infusion_window", result.infusion_window))
        self.utter_result(dispatcher, tracker, result)
        events += disclaimer(dispatcher, tracker)  # after a red flag's advice, before a question
        if decision.asks_window:
            say(dispatcher, tracker, "utter_ask_infusion_window")
        if decision.asks_window or tracker.get_slot("pending_question") == WINDOW_QUESTION:
            events += _question_events(decision)
        return events


class ActionResolveInfusionWindow(TriageAction):
    """The patient answered the timing question: the waiting symptoms are triaged with it."""

    def name(self) -> str:
        return "action_resolve_infusion_window"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        decision = self.decision(tracker)
        if not decision.answered or decision.result is None:
            dispatcher.utter_message(response="utter_ask_infusion_window_again")
            return []
        result = decision.result
        events = result_events(tracker, result, self.triager)
        events += [SlotSet("infusion_window", result.infusion_window), *_question_events(decision)]
        self.utter_result(dispatcher, tracker, result)
        return events + disclaimer(dispatcher, tracker)
