"""Triage of the patient's message, and of a pending one once the timing is known."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.core import assess, get_triager, result_events, utter_guidance
from app.nlu.pipeline import UnsupportedLanguageError

WINDOW_QUESTION = "infusion_window"
UNSURE_ANSWERS = (
    "not sure", "don't know", "dont know", "do not know", "dunno", "no idea", "what do you mean",
    "not certain", "can't remember", "cant remember", "?",
)  # fmt: skip


def window_from_answer(tracker: Tracker) -> str | None:
    """The infusion window the patient's answer gives, or None when it is unclear."""
    message = tracker.latest_message or {}
    for entity in message.get("entities") or []:
        if entity.get("entity") == "infusion_window" and entity.get("value"):
            return str(entity["value"])
    text = message.get("text") or ""
    try:
        parsed = get_triager().parse(text)
    except UnsupportedLanguageError:
        return None
    if parsed.infusion_window != "unknown":
        return parsed.infusion_window
    intent = (message.get("intent") or {}).get("name")
    if any(cue in text.casefold() for cue in UNSURE_ANSWERS):
        return None  # "not sure" is no answer: ask again rather than assume "no"
    # The question asks whether the infusion is running or ended < 2 h ago.
    if intent == "affirm":
        return "during"
    if intent == "deny":
        return "later"
    return None


class ActionTriageMessage(Action):
    """Triage the latest message; escalate, advise, or ask when the infusion was."""

    def name(self) -> str:
        return "action_triage_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = (tracker.latest_message or {}).get("text") or ""
        window = tracker.get_slot("infusion_window") or "unknown"
        asking_window = tracker.get_slot("pending_question") == WINDOW_QUESTION
        pending = tracker.get_slot("pending_text") if asking_window else None
        if pending:
            # "I've got hives" ... "and a headache too": still the same question open.
            text = f"{pending}\n{text}"
        result = assess(tracker, text)
        events = result_events(tracker, result)
        if result.infusion_window != "unknown" and result.infusion_window != window:
            events.append(SlotSet("infusion_window", result.infusion_window))
        utter_guidance(dispatcher, result, result.infusion_window)
        if WINDOW_QUESTION in result.questions:
            dispatcher.utter_message(response="utter_ask_infusion_window")
            events += [SlotSet("pending_question", WINDOW_QUESTION), SlotSet("pending_text", text)]
        elif asking_window and result.level in ("emergency", "urgent", "routine"):
            events += [SlotSet("pending_question", None), SlotSet("pending_text", None)]
        return events


class ActionResolveInfusionWindow(Action):
    """The patient answered the timing question: triage the pending message again."""

    def name(self) -> str:
        return "action_resolve_infusion_window"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        window = window_from_answer(tracker)
        if window is None:
            dispatcher.utter_message(response="utter_ask_infusion_window_again")
            return []
        pending = tracker.get_slot("pending_text") or ""
        answer = (tracker.latest_message or {}).get("text") or ""
        # The answer may add symptoms ("yes, and now my lips are swelling"); a button
        # payload ("/inform_infusion_timing{...}") adds nothing.
        combined = pending if answer.startswith("/") else f"{pending}\n{answer}"
        result = assess(tracker, combined, window)
        events = result_events(tracker, result)
        events += [
            SlotSet("infusion_window", window),
            SlotSet("pending_question", None),
            SlotSet("pending_text", None),
        ]
        utter_guidance(dispatcher, result, window)
        return events
