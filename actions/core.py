"""Shared pieces of the custom actions: the triage core and the turn's bot messages.

Pure helpers (no server, no database) so they are tested directly.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from app.nlu.pipeline import UnsupportedLanguageError
from app.triage.engine import IN_WINDOW, TriageContext, TriageResult
from app.triage.protocol import LEVEL_RANK
from app.triager import Triager

_triager: Triager | None = None


def get_triager() -> Triager:
    """The process-wide triage core; loaded on first use (the app sets it at start-up)."""
    global _triager
    if _triager is None:
        _triager = Triager()
    return _triager


def set_triager(triager: Triager) -> None:
    global _triager
    _triager = triager


def higher(a: str | None, b: str | None) -> str:
    """The higher of two levels (None counts as `none`)."""
    a, b = a or "none", b or "none"
    return a if LEVEL_RANK[a] >= LEVEL_RANK[b] else b


def context_of(tracker: Tracker) -> TriageContext:
    return TriageContext(infusion_window=tracker.get_slot("infusion_window") or "unknown")


def assess(tracker: Tracker, text: str, window: str | None = None) -> TriageResult:
    """Triage `text` with what the conversation knows (its infusion window)."""
    context = TriageContext(window) if window else context_of(tracker)
    try:
        _, result = get_triager().assess(text, None, context)
    except UnsupportedLanguageError:  # nothing readable: no triage claim either way
        return TriageResult("none", [], infusion_window=context.infusion_window)
    return result


def result_events(tracker: Tracker, result: TriageResult) -> list[dict[str, Any]]:
    """Slots recording this turn's result; the conversation level never goes down."""
    seen = list(tracker.get_slot("categories") or [])
    return [
        SlotSet("last_level", result.level),
        SlotSet("last_categories", result.categories),
        SlotSet("conversation_level", higher(tracker.get_slot("conversation_level"), result.level)),
        SlotSet("categories", seen + [c for c in result.categories if c not in seen]),
    ]


def utter_guidance(dispatcher: CollectingDispatcher, result: TriageResult, window: str) -> None:
    """Bot messages for a triage result: the action first, then the reasons with sources."""
    protocol = get_triager().protocol
    categories = result.categories
    if result.level == "emergency":
        if "self_harm" in categories:
            dispatcher.utter_message(response="utter_emergency_self_harm")
        elif "infusion_reaction" in categories and window in IN_WINDOW:
            dispatcher.utter_message(response="utter_emergency_infusion")
        else:
            dispatcher.utter_message(response="utter_emergency")
    elif result.level == "urgent":
        stop = any(protocol.categories[c].stop_next_dose for c in categories)
        dispatcher.utter_message(response="utter_urgent_stop_dose" if stop else "utter_urgent")
    elif result.level == "routine":
        dispatcher.utter_message(response="utter_routine")
    shown: set[str] = set()
    for category in categories:
        lines = (
            protocol.categories[category].guidance
            if category in protocol.categories
            else protocol.info_topics[category].answer
        )
        for line in lines:
            if line.text not in shown:
                shown.add(line.text)
                dispatcher.utter_message(text=line.text, json_message={"source": line.source})
    if result.level in ("emergency", "urgent"):
        dispatcher.utter_message(response="utter_care_team_alerted")
