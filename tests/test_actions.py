"""The custom actions called directly, as rasa-sdk runs them: Tracker in, events and
dispatcher messages out (no server). Built as our service builds them (triager and clinic
hours injected) and as `rasa run actions` does (no arguments)."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import ALL_ACTIONS, build_actions
from actions.core import TriageAction
from actions.handoff import ActionHandoff
from actions.screening import ActionRedFlagScreen, ActionScreenAnswer
from actions.triage import ActionResolveInfusionWindow, ActionTriageMessage
from app.clinic import ClinicHours
from app.dialogue.decision import DECISION_KEY, decide
from app.dialogue.domain import default_domain

ALWAYS_OPEN = ClinicHours.parse("Mon-Sun 00:00-24:00")


@pytest.fixture
def parts(triager):
    return {"triager": triager, "clinic": ALWAYS_OPEN}


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


def responses(messages) -> list[str]:
    return [m.get("response") or (m.get("custom") or {}).get("response") for m in messages]


def hives_waiting(triager) -> dict:
    mentions = [m.to_dict() for m in triager.parse("I've come out in hives").symptoms]
    return {"pending_question": "infusion_window", "pending_symptoms": mentions}


def test_the_service_injects_its_parts(triager):
    built = build_actions(triager, ALWAYS_OPEN)
    assert [type(a) for a in built] == list(ALL_ACTIONS)
    for action in built:
        if isinstance(action, TriageAction):
            assert action.triager is triager and action.clinic is ALWAYS_OPEN


async def test_triage_action_escalates_and_keeps_the_highest_level(parts):
    messages, events = await run(
        ActionTriageMessage(**parts),
        tracker("my eyes have gone yellow", conversation_level="emergency"),
    )
    assert slots_set(events)["conversation_level"] == "emergency"
    assert responses(messages)[0] == "utter_urgent_stop_dose"
    assert all(m["custom"]["source"] for m in messages if m.get("text"))
    assert "utter_care_team_alerted" in responses(messages)


async def test_triage_action_asks_about_the_infusion_for_hives(parts):
    messages, events = await run(ActionTriageMessage(**parts), tracker("I've come out in hives"))
    assert responses(messages)[-1] == "utter_ask_infusion_window"
    slots = slots_set(events)
    assert slots["pending_question"] == "infusion_window"
    assert [m["concept"] for m in slots["pending_symptoms"]] == ["hives"]


@pytest.mark.parametrize(
    ("answer", "intent", "level"),
    [
        ("yes", "affirm", "emergency"),
        ("no", "deny", "urgent"),
        ("it ended 30 minutes ago", "inform_infusion_timing", "emergency"),
    ],
)
async def test_resolving_the_window(parts, triager, answer, intent, level):
    pending = tracker(answer, intent, **hives_waiting(triager))
    messages, events = await run(ActionResolveInfusionWindow(**parts), pending)
    slots = slots_set(events)
    assert slots["conversation_level"] == level and slots["pending_question"] is None
    assert ("utter_care_team_alerted" in responses(messages)) is True


async def test_the_action_renders_the_runners_decision_without_parsing(parts, triager):
    """In our service the decision rides in the latest message: the action parses nothing."""
    decision = decide(triager, "my eyes have gone yellow", default_domain().initial_slots())
    message = {**decision.parse, DECISION_KEY: decision.to_dict(), "text": "ignored text"}
    calls = []
    original = triager.nlu.parse
    triager.nlu.parse = lambda *a, **k: calls.append(a) or original(*a, **k)
    try:
        state = Tracker("p", {}, message, [], False, None, {}, "action_listen")
        messages, _ = await run(ActionTriageMessage(**parts), state)
    finally:
        triager.nlu.parse = original
    assert calls == [] and responses(messages)[0] == "utter_urgent_stop_dose"


async def test_unclear_answer_is_asked_again(parts, triager):
    messages, events = await run(
        ActionResolveInfusionWindow(**parts),
        tracker("not sure", "deny", **hives_waiting(triager)),
    )
    assert responses(messages)[0] == "utter_ask_infusion_window_again" and events == []


async def test_screen_and_handoff(parts):
    messages, events = await run(ActionRedFlagScreen(), tracker("ok"))
    assert responses(messages)[0] == "utter_red_flag_screen"
    assert slots_set(events) == {"pending_question": "red_flag_screen"}
    messages, _ = await run(
        ActionRedFlagScreen(), tracker("ok", pending_question="infusion_window")
    )
    assert messages == []  # one question at a time
    messages, _ = await run(ActionScreenAnswer(), tracker("no", "deny"))
    assert responses(messages)[0] == "utter_screen_negative"
    messages, events = await run(
        ActionHandoff(**parts), tracker("a person please", "request_human")
    )
    assert slots_set(events) == {"handoff_requested": True}
    assert responses(messages)[0] == "utter_handoff"
    assert ALWAYS_OPEN.describe() in messages[0]["text"]  # said with the clinic hours filled in
