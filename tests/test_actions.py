"""The custom actions called directly, as rasa-sdk runs them: Tracker in, events and
dispatcher messages out (no server)."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.core import higher, set_triager
from actions.handoff import ActionHandoff
from actions.screening import ActionRedFlagScreen, ActionScreenAnswer
from actions.triage import ActionResolveInfusionWindow, ActionTriageMessage
from app.dialogue.domain import default_domain


@pytest.fixture(autouse=True)
def _core(triager):
    set_triager(triager)


def tracker(text: str, intent: str = "report_symptom", **slots) -> Tracker:
    values = {**default_domain().initial_slots(), **slots}
    message = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return Tracker("patient", values, message, [], False, None, {}, "action_listen")


def slots_set(events) -> dict:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def run(action, tracker_):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker_, default_domain().data)
    return dispatcher.messages, events


def test_levels_only_go_up():
    assert higher("urgent", "routine") == "urgent"
    assert higher(None, "info") == "info"
    assert higher("emergency", "urgent") == "emergency"


async def test_triage_action_escalates_and_keeps_the_highest_level():
    messages, events = await run(
        ActionTriageMessage(), tracker("my eyes have gone yellow", conversation_level="emergency")
    )
    slots = slots_set(events)
    assert slots["last_level"] == "urgent" and slots["conversation_level"] == "emergency"
    assert messages[0]["response"] == "utter_urgent_stop_dose"
    assert all(m["custom"]["source"] for m in messages if m.get("text"))


async def test_triage_action_asks_about_the_infusion_for_hives():
    messages, events = await run(ActionTriageMessage(), tracker("I've come out in hives"))
    assert messages[-1]["response"] == "utter_ask_infusion_window"
    assert slots_set(events)["pending_question"] == "infusion_window"


@pytest.mark.parametrize(
    ("answer", "intent", "level"),
    [
        ("yes", "affirm", "emergency"),
        ("no", "deny", "urgent"),
        ("it ended 30 minutes ago", "inform_infusion_timing", "emergency"),
    ],
)
async def test_resolving_the_window(answer, intent, level):
    pending = tracker(
        answer, intent, pending_question="infusion_window", pending_text="I've come out in hives"
    )
    _, events = await run(ActionResolveInfusionWindow(), pending)
    assert slots_set(events)["last_level"] == level


async def test_unclear_answer_is_asked_again():
    messages, events = await run(
        ActionResolveInfusionWindow(),
        tracker("huh?", "nlu_fallback", pending_question="infusion_window", pending_text="hives"),
    )
    assert messages[0]["response"] == "utter_ask_infusion_window_again" and events == []


async def test_screen_and_handoff():
    messages, events = await run(ActionRedFlagScreen(), tracker("ok"))
    assert messages[0]["response"] == "utter_red_flag_screen"
    assert slots_set(events) == {"pending_question": "red_flag_screen"}
    messages, _ = await run(
        ActionRedFlagScreen(), tracker("ok", pending_question="infusion_window")
    )
    assert messages == []  # one question at a time
    messages, _ = await run(ActionScreenAnswer(), tracker("no", "deny"))
    assert messages[0]["response"] == "utter_screen_negative"
    messages, events = await run(ActionHandoff(), tracker("a person please", "request_human"))
    assert slots_set(events) == {"handoff_requested": True}
