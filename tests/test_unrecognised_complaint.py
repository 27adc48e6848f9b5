"""An NLU miss turns into a question, never into silence: a message that reads like a
health complaint with no sign recognised gets the red-flag screen with buttons, each of
which is triaged like any message; the API and the coordinator see the flag."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.dialogue.domain import default_domain
from tests.conftest import running_app

VAGUE = "I feel really weird, something is off with my body"


async def test_the_stateless_api_marks_an_unrecognised_complaint(client):
    vague = (await client.post("/api/triage", json={"text": VAGUE})).json()
    assert (vague["level"], vague["unrecognised_complaint"]) == ("none", True)
    known = (await client.post("/api/triage", json={"text": "my eyes are yellow"})).json()
    hello = (await client.post("/api/triage", json={"text": "hi there"})).json()
    assert known["unrecognised_complaint"] is False and hello["unrecognised_complaint"] is False


BUTTONS = default_domain().render("utter_unrecognised_screen")["buttons"]


@pytest.mark.parametrize("button", BUTTONS, ids=[b["title"] for b in BUTTONS])
async def test_every_screen_button_is_triaged(triager, tmp_path, button):
    async with running_app(triager, f"sqlite+aiosqlite:///{tmp_path}/t.db") as (_, http):
        first = await http.post("/webhooks/rest/webhook", json={"sender": "p", "message": VAGUE})
        assert first.json()[-1]["custom"]["response"] == "utter_unrecognised_screen"
        assert first.json()[-1]["buttons"] == BUTTONS
        reply = await http.post(
            "/webhooks/rest/webhook", json={"sender": "p", "message": button["payload"]}
        )
        level = reply.json()[0]["custom"]["triage"]["level"]
        if button["payload"] == "/deny":
            assert reply.json()[0]["custom"]["response"] == "utter_screen_negative"
        else:
            assert level in ("urgent", "emergency"), button


async def test_the_coordinator_sees_the_flag(triager, tmp_path):
    from app.coordinator.accounts import add_coordinator, issue_token

    async with running_app(triager, f"sqlite+aiosqlite:///{tmp_path}/t.db") as (app, http):
        async with app.state.conversations.sessionmaker() as session, session.begin():
            await add_coordinator(session, "carol", "a long enough password")
            token, _ = await issue_token(session, "carol", timedelta(days=1))
        await http.post("/webhooks/rest/webhook", json={"sender": "p", "message": VAGUE})
        auth = {"Authorization": f"Bearer {token}"}
        listed = (await http.get("/api/coordinator/conversations", headers=auth)).json()
        conversation_id = listed["items"][0]["id"]
        found = await http.get(f"/api/coordinator/conversations/{conversation_id}", headers=auth)
        patient = [m for m in found.json()["messages"] if m["role"] == "patient"]
        assert patient[0]["unrecognised_complaint"] is True


def test_while_the_timing_question_is_open_only_one_question_is_asked():
    from app.dialogue.policy import TurnFacts, next_actions

    facts = TurnFacts(
        intent="report_symptom",
        level="none",
        pending_question="infusion_window",
        conversation_level="urgent",
        unrecognised=True,
    )
    assert next_actions(facts) == ("utter_ask_rephrase", "utter_ask_infusion_window_pending")
    alone = TurnFacts("report_symptom", "none", None, "none", unrecognised=True)
    assert next_actions(alone) == ("action_unrecognised_screen",)
