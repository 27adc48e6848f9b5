"""rasa-sdk's action-server protocol at /webhook and /actions, as a real Rasa calls it."""

from __future__ import annotations

import json
import zlib

import rasa_sdk

from actions import ALL_ACTIONS
from app.dialogue.domain import default_domain


def action_call(name: str, text: str, slots: dict | None = None) -> dict:
    domain = default_domain()
    return {
        "next_action": name,
        "sender_id": "rasa-user",
        "version": rasa_sdk.__version__,
        "domain": domain.data,
        "tracker": {
            "sender_id": "rasa-user",
            "slots": {**domain.initial_slots(), **(slots or {})},
            "latest_message": {
                "text": text,
                "intent": {"name": "report_symptom", "confidence": 0.9},
                "entities": [],
            },
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


async def test_actions_lists_every_custom_action(client):
    response = await client.get("/actions")
    assert response.status_code == 200
    names = {item["name"] for item in response.json()}
    assert names == {action().name() for action in ALL_ACTIONS} == set(default_domain().actions)


async def test_triage_action_returns_rasa_events_and_responses(client):
    response = await client.post(
        "/webhook", json=action_call("action_triage_message", "I've got hives all over")
    )
    assert response.status_code == 200
    body = response.json()
    slots = {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}
    assert slots["conversation_level"] == "urgent"
    assert slots["pending_question"] == "infusion_window"
    # Clinical texts go out as text with their response name and source in `custom`.
    assert body["responses"][0]["custom"]["response"] == "utter_urgent_stop_dose"
    assert any(
        r["custom"].get("response") == "utter_ask_infusion_window" for r in body["responses"]
    )
    # Every clinical line names its source; the timing question is conversational.
    clinical = [
        r for r in body["responses"] if r["custom"].get("response") != "utter_ask_infusion_window"
    ]
    assert clinical and all(r["custom"].get("source") for r in clinical)


async def test_resolve_action_uses_the_timing_answer(client, triager):
    waiting = [m.to_dict() for m in triager.parse("I've got hives all over").symptoms]
    call = action_call(
        "action_resolve_infusion_window",
        "yes it's still running",
        {
            "pending_question": "infusion_window",
            "pending_symptoms": waiting,
            "conversation_level": "urgent",
        },
    )
    call["tracker"]["latest_message"]["intent"] = {"name": "affirm", "confidence": 0.9}
    body = (await client.post("/webhook", json=call)).json()
    slots = {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}
    assert slots["conversation_level"] == "emergency"
    assert slots["categories"] == ["infusion_reaction"]
    assert body["responses"][0]["custom"]["response"] == "utter_emergency_infusion"
    assert body["responses"][0]["text"].startswith("Tell the infusion nurse right now")


async def test_session_start_carries_the_level_over(client):
    body = (
        await client.post(
            "/webhook",
            json=action_call("action_session_start", "", {"conversation_level": "urgent"}),
        )
    ).json()
    assert body["events"][0]["event"] == "session_started"
    assert {"event": "slot", "name": "conversation_level", "value": "urgent"}.items() <= body[
        "events"
    ][1].items()
    # The disclaimer is due, said in the session's first reply (after a red flag's advice).
    assert {"event": "slot", "name": "disclaimer_due", "value": True}.items() <= body["events"][
        -2
    ].items()
    assert body["responses"] == []


async def test_unknown_action_is_404(client):
    response = await client.post("/webhook", json=action_call("action_does_not_exist", "hi"))
    assert response.status_code == 404
    assert response.json()["action_name"] == "action_does_not_exist"


async def test_status_codes_are_rasa_sdks(client):
    """rasa-sdk's table: 400 unreadable body, 500 a call it cannot run (a list, no
    tracker; Rasa reads 400 as "action rejected"), `null` for no action to run."""
    response = await client.post(
        "/webhook", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid body request"}
    assert (await client.post("/webhook", content=b"null")).status_code == 400
    assert (await client.post("/webhook", json=["a", "list"])).status_code == 500
    missing_tracker = {"next_action": "action_triage_message", "sender_id": "x"}
    failed = await client.post("/webhook", json=missing_tracker)
    assert failed.status_code == 500 and "error" in failed.json()
    nothing = action_call("action_triage_message", "hi")
    del nothing["next_action"]
    answered = await client.post("/webhook", json=nothing)
    assert answered.status_code == 200 and answered.json() is None


async def test_compressed_requests_are_read_like_rasa_sdk(client):
    """Rasa's COMPRESS_ACTION_SERVER_REQUEST: the body deflated, Content-Encoding: deflate."""
    call = action_call("action_triage_message", "I've got hives all over")
    body = zlib.compress(json.dumps(call).encode())
    response = await client.post(
        "/webhook",
        content=body,
        headers={"content-type": "application/json", "content-encoding": "deflate"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["responses"][0]["custom"]["response"] == "utter_urgent_stop_dose"
    broken = await client.post(
        "/webhook", content=b"not deflated", headers={"content-encoding": "deflate"}
    )
    assert broken.status_code == 400
    bomb = zlib.compress(b" " * (64 * 1024 * 1024))  # 64 MB of spaces in ~64 kB
    refused = await client.post("/webhook", content=bomb, headers={"content-encoding": "deflate"})
    assert refused.status_code == 413


async def test_unreadable_text_does_not_crash_an_action(client):
    response = await client.post(
        "/webhook", json=action_call("action_triage_message", "我的眼睛发黄")
    )
    assert response.status_code == 200


def test_rasa_run_actions_registers_the_package_as_rasa_sdk_does():
    """`rasa run actions` scans the package and builds every action with no arguments."""
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(executor.actions) == set(default_domain().actions)


async def test_health_answers_like_rasa_sdk(client):
    response = await client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_button_payloads_are_escaped_for_rasa_and_sent_unescaped():
    """domain.yml writes literal braces as {{ }} (Rasa fills {name} in responses)."""
    raw = default_domain().responses["utter_ask_infusion_window"][0]["buttons"][0]["payload"]
    assert raw == '/inform_infusion_timing{{"infusion_window": "during"}}'
    sent = default_domain().render("utter_ask_infusion_window")["buttons"][0]["payload"]
    assert sent == '/inform_infusion_timing{"infusion_window": "during"}'


async def test_our_own_turns_never_replace_the_domain_rasa_sent(client):
    """Rasa (Pro) sends its domain once with a digest, then only the digest; rasa-sdk
    answers 449 when the digest is not the one it keeps. A patient's turn through our own
    channels in between must not replace Rasa's domain (it did: one executor)."""
    first = action_call("action_triage_message", "my eyes look kind of yellow")
    first["domain_digest"] = "rasa-domain-1"
    assert (await client.post("/webhook", json=first)).status_code == 200
    turn = await client.post(
        "/webhooks/rest/webhook", json={"sender": "p1", "message": "my eyes look kind of yellow"}
    )
    assert turn.status_code == 200
    again = action_call("action_triage_message", "my eyes look kind of yellow")
    del again["domain"]
    again["domain_digest"] = "rasa-domain-1"
    response = await client.post("/webhook", json=again)
    assert response.status_code == 200, response.text
    stale = {**again, "domain_digest": "some-other-domain"}
    assert (await client.post("/webhook", json=stale)).status_code == 449
