"""One decision per turn, told once and truthfully: the REST channel's trust model, one
alert per conversation, what the patient is told (issue: one decision per turn).

Every test here failed on the build before the fix."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.store.models import Alert, AlertEvent, Conversation, Message
from tests.conftest import running_app

ALWAYS_OPEN = "Mon-Sun 00:00-24:00"
NEVER_NOW = "Mon 00:00-00:01"  # open one minute a week: closed in practice
DURING = '/inform_infusion_timing{"infusion_window": "during"}'
WITHIN_2H = '/inform_infusion_timing{"infusion_window": "within_2h"}'
SELF_CARE = ("Rest and drink", "drink plenty of fluids", "next infusion visit")


async def say(http, sender: str, text: str, **headers) -> list[dict]:
    response = await http.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": text}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def said(reply: list[dict]) -> str:
    return "\n".join(m["text"] for m in reply)


def responses(reply: list[dict]) -> list[str]:
    return [(m.get("custom") or {}).get("response", "") for m in reply]


def alerted(reply: list[dict]) -> bool:
    return any(r.startswith("utter_care_team_alerted") for r in responses(reply))


async def all_rows(app, model, *where):
    async with app.state.conversations.sessionmaker() as session:
        return (await session.scalars(select(model).where(*where).order_by(model.id))).all()


async def active_alerts(app) -> list[Alert]:
    return await all_rows(app, Alert, Alert.status.in_(("open", "acknowledged")))


async def coordinator_token(app) -> str:
    from app.coordinator.accounts import add_coordinator, issue_token

    async with app.state.conversations.sessionmaker() as session, session.begin():
        await add_coordinator(session, "carol", "a long enough password")
        token, _ = await issue_token(session, "carol", timedelta(days=1))
    return token


async def change(http, token: str, alert_id: int, action: str, note: str | None = None):
    response = await http.post(
        f"/api/coordinator/alerts/{alert_id}/{action}",
        json={"note": note} if note else {},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- 1. REST channel trust


async def test_the_rest_channel_is_off_unless_configured(triager, tmp_path):
    async with running_app(triager, f"sqlite+aiosqlite:///{tmp_path}/t.db", rest_channel="off") as (
        app,
        http,
    ):
        response = await http.post(
            "/webhooks/rest/webhook", json={"sender": "p", "message": "my eyes are yellow"}
        )
        assert response.status_code == 404 and "TRIAGE_REST_CHANNEL" in response.json()["detail"]
        assert await all_rows(app, Conversation) == []


async def test_the_rest_channel_behind_a_token(triager, tmp_path):
    secret = "s3cret-token-for-the-rest-channel"
    async with running_app(
        triager, f"sqlite+aiosqlite:///{tmp_path}/t.db", rest_channel="token", rest_token=secret
    ) as (app, http):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": secret}):
            response = await http.post(
                "/webhooks/rest/webhook",
                json={"sender": "p", "message": "hello"},
                headers=headers,
            )
            assert response.status_code == 401, headers
        assert await all_rows(app, Conversation) == []
        reply = await say(http, "p", "hello", Authorization=f"Bearer {secret}")
        assert reply[0]["custom"]["triage"]["level"] == "none"


def test_token_mode_without_a_token_refuses_to_start():
    from pydantic import ValidationError

    from app.settings import Settings

    with pytest.raises(ValidationError, match="TRIAGE_REST_TOKEN"):
        Settings(rest_channel="token", rest_token="short")


async def test_a_rest_sender_cannot_reach_a_widget_conversation(triager, database_url):
    async with running_app(triager, database_url) as (app, http):
        created = (await http.post("/api/conversations", json={})).json()
        auth = {"Authorization": f"Bearer {created['token']}"}
        posted = await http.post(
            f"/api/conversations/{created['id']}/messages",
            json={"text": "my eyes have gone yellow"},
            headers=auth,
        )
        assert posted.status_code == 200
        before = await http.get(f"/api/conversations/{created['id']}/messages", headers=auth)
        # A REST caller naming the widget conversation's sender id gets a conversation of
        # its own: its level is not the patient's, and nothing lands in the patient's widget.
        hello = await say(http, f"widget:{created['id']}", "hi")
        assert hello[0]["custom"]["triage"]["conversation_level"] == "none"
        await say(http, f"widget:{created['id']}", "I also feel faint")
        after = await http.get(f"/api/conversations/{created['id']}/messages", headers=auth)
        assert after.json() == before.json()
        conversations = await all_rows(app, Conversation)
        assert sorted(c.sender_id for c in conversations) == sorted(
            [f"widget:{created['id']}", f"rest:widget:{created['id']}"]
        )


# ---------------------------------------------------------------- 2, 3. alerts


async def test_a_repeat_red_flag_after_resolution_raises_a_new_alert(triager, database_url):
    async with running_app(triager, database_url) as (app, http):
        token = await coordinator_token(app)
        assert alerted(await say(http, "p", "my eyes have gone yellow"))
        [first] = await active_alerts(app)
        await change(http, token, first.id, "resolve", "spoke to the patient")
        reply = await say(http, "p", "my eyes are still yellow and now my pee is dark brown")
        assert alerted(reply)
        [second] = await active_alerts(app)
        assert second.id != first.id and second.severity == "high"


async def test_an_escalation_raises_the_one_alert_and_keeps_its_history(triager, database_url):
    async with running_app(triager, database_url) as (app, http):
        token = await coordinator_token(app)
        await say(http, "p", "I've come out in hives")
        [alert] = await active_alerts(app)
        assert alert.severity == "high"
        await change(http, token, alert.id, "acknowledge")
        reply = await say(http, "p", DURING)
        assert reply[0]["custom"]["triage"]["level"] == "emergency" and alerted(reply)
        [escalated] = await all_rows(app, Alert)  # still one alert, not a lesser one first
        assert (escalated.id, escalated.severity, escalated.status) == (
            alert.id,
            "critical",
            "open",  # back in the queue: the coordinator saw it at a lower level
        )
        history = await all_rows(app, AlertEvent, AlertEvent.alert_id == alert.id)
        assert [(e.kind, e.severity, e.actor) for e in history] == [
            ("raised", "high", None),
            ("acknowledged", "high", "carol"),
            ("escalated", "critical", None),
        ]
        transcript = await http.get(
            f"/api/coordinator/conversations/{alert.conversation_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
        kinds = [h["kind"] for h in transcript.json()["alerts"][0]["history"]]
        assert kinds == ["raised", "acknowledged", "escalated"]


async def test_whenever_the_bot_says_alerted_an_alert_is_open(triager, database_url):
    """Across a conversation with resolutions between red flags."""
    turns = [
        ("hi", None),
        ("I've come out in hives", None),
        ("no, it was last month", None),
        ("thanks", "resolve"),
        ("my eyes have gone yellow", None),
        ("my throat is closing up", "acknowledge"),
        ("I can't breathe properly", "resolve"),
        ("I want to talk to a person", None),
    ]
    async with running_app(triager, database_url) as (app, http):
        token = await coordinator_token(app)
        for text, then in turns:
            reply = await say(http, "p", text)
            active = await active_alerts(app)
            assert len(active) <= 1
            if alerted(reply):
                assert active and active[0].status == "open", text
            if then and active:
                await change(http, token, active[0].id, then, "checked")


# ---------------------------------------------------------------- 5-8. what the patient reads


@pytest.mark.parametrize(
    ("answer", "first", "stopped"),
    [
        (DURING, "Tell the infusion nurse right now", True),
        (WITHIN_2H, "Call your local emergency number now", False),
    ],
)
async def test_the_action_fits_the_timing_answer(triager, tmp_path, answer, first, stopped):
    async with running_app(triager, f"sqlite+aiosqlite:///{tmp_path}/t.db") as (_, http):
        await say(http, "p", "I'm itching all over")
        reply = await say(http, "p", answer)
        assert reply[0]["text"].startswith(first)
        assert ("infusion should be stopped" in said(reply)) is stopped


@pytest.mark.parametrize(
    "text",
    [
        "my eyes have gone yellow and I'm really tired",
        "my throat is closing and I have a headache",
        "blinding headache, stiff neck and a temperature of 39",
        "I've been tired for weeks and now my gums keep bleeding",
    ],
)
async def test_no_self_care_after_an_urgent_or_emergency_instruction(triager, tmp_path, text):
    async with running_app(triager, f"sqlite+aiosqlite:///{tmp_path}/t.db") as (_, http):
        reply = await say(http, "p", text)
        assert reply[0]["custom"]["triage"]["level"] in ("urgent", "emergency")
        for phrase in SELF_CARE:
            assert phrase not in said(reply), phrase


async def test_a_routine_reply_says_next_visit_once(triager, tmp_path):
    async with running_app(triager, f"sqlite+aiosqlite:///{tmp_path}/t.db") as (_, http):
        reply = await say(http, "p", "pretty tired since the last dose and my knees ache")
        assert reply[0]["custom"]["triage"]["level"] == "routine"
        assert said(reply).lower().count("next infusion visit") == 1
        assert "Natalizumab commonly causes tiredness and joint pain." in said(reply)


async def test_guidance_names_what_the_patient_reported(triager, tmp_path):
    async with running_app(triager, f"sqlite+aiosqlite:///{tmp_path}/t.db") as (_, http):
        reply = await say(http, "p", "I'm flushed and dizzy")
        assert "Flushing can be an allergic reaction" in said(reply)
        assert "Hives, welts" not in said(reply)


async def test_a_question_while_the_timing_question_is_open(triager, tmp_path):
    async with running_app(triager, f"sqlite+aiosqlite:///{tmp_path}/t.db") as (_, http):
        first = await say(http, "p", "I've got hives")
        assert "Hives can be an allergic reaction" in said(first)
        reply = await say(http, "p", "when is my next infusion due?")
        assert "every 4 weeks" in said(reply)  # answered
        assert "Hives can be" not in said(reply)  # not the whole block again
        assert responses(reply)[-1] == "utter_ask_infusion_window_pending"
        assert sum(bool(m.get("buttons")) for m in reply) == 1  # re-asked in one line
        thanks = await say(http, "p", "ok thanks")
        assert "Hives can be" not in said(thanks)
        answered = await say(http, "p", WITHIN_2H)
        assert answered[0]["custom"]["triage"]["level"] == "emergency"


# ---------------------------------------------------------------- 10, 11. after the alert


async def test_resolution_ends_the_emergency_state_and_says_so(triager, database_url):
    async with running_app(triager, database_url) as (app, http):
        token = await coordinator_token(app)
        created = (await http.post("/api/conversations", json={})).json()
        auth = {"Authorization": f"Bearer {created['token']}"}
        url = f"/api/conversations/{created['id']}/messages"
        await http.post(url, json={"text": "my throat is closing up"}, headers=auth)
        reminder = (await http.post(url, json={"text": "thanks"}, headers=auth)).json()
        assert any(m.get("custom", {}).get("response") == "utter_still_emergency"
                   for m in reminder["messages"])  # fmt: skip
        [alert] = await active_alerts(app)
        await change(http, token, alert.id, "resolve", "ambulance came, patient is fine")
        seen = (await http.get(url, headers=auth)).json()["messages"]
        closing = seen[-1]
        assert closing["custom"]["conversation"] == {"level": "none", "alert": "resolved"}
        assert "closed this alert" in closing["text"]
        assert "ambulance" not in closing["text"]  # the coordinator's note stays internal
        after = (await http.post(url, json={"text": "thank you"}, headers=auth)).json()
        texts = " ".join(m["text"] for m in after["messages"])
        assert "make sure you have called" not in texts
        assert after["messages"][0]["custom"]["triage"]["conversation_level"] == "none"
        [conversation] = await all_rows(app, Conversation)
        assert conversation.level == "none"


@pytest.mark.parametrize(
    ("hours", "expected", "absent"),
    [
        (ALWAYS_OPEN, "usually within 2 hours", "closed now"),
        (NEVER_NOW, "Do not wait for it: seek medical care today", "usually within"),
    ],
)
async def test_the_patient_is_told_when_a_reply_can_come(
    triager, tmp_path, hours, expected, absent
):
    async with running_app(
        triager,
        f"sqlite+aiosqlite:///{tmp_path}/t.db",
        clinic_hours=hours,
        clinic_timezone="Europe/London",
        clinic_reply_minutes=120,
    ) as (_, http):
        reply = await say(http, "p", "my eyes have gone yellow")
        assert expected in said(reply) and absent not in said(reply)
        assert f"{hours} (Europe/London)" in said(reply)
        handoff = await say(http, "q", "can I talk to a real person please")
        assert hours in said(handoff)


# ---------------------------------------------------------------- stateless and one parse


async def test_stateless_triage_never_claims_an_alert(client):
    response = await client.post("/api/triage", json={"text": "my throat is closing up"})
    body = response.json()
    assert body["level"] == "emergency"
    assert body["guidance"][0]["text"].startswith("Call your local emergency number now")
    assert not any("alerted" in line["text"] for line in body["guidance"])


@pytest.mark.parametrize(
    "turns",
    [
        ["hello", "I've got hives", "when is my next infusion due?", DURING, "thanks"],
        ["my eyes are yellow", "I want a person", "I'm itching", "yes it's running now"],
    ],
)
async def test_one_parse_per_turn(triager, tmp_path, turns):
    async with running_app(triager, f"sqlite+aiosqlite:///{tmp_path}/t.db") as (_, http):
        calls: list[str] = []
        original = triager.nlu.parse
        triager.nlu.parse = lambda text, lang=None: calls.append(text) or original(text, lang)
        try:
            for text in turns:
                calls.clear()
                await say(http, "p", text)
                expected = [] if text.startswith("/") else [text]
                assert calls == expected, text
        finally:
            triager.nlu.parse = original


async def test_bot_messages_name_the_document_they_quote(triager, tmp_path):
    async with running_app(triager, f"sqlite+aiosqlite:///{tmp_path}/t.db") as (app, http):
        reply = await say(http, "p", "my eyes have gone yellow")
        quoting = [m for m in reply if "drug information says" in m["text"]]
        assert quoting
        title = triager.protocol.document.title
        assert all(m["custom"]["document"] == title for m in quoting)
        stored = await all_rows(app, Message, Message.role == "bot")
        assert any((m.custom or {}).get("document") == title for m in stored)


async def test_the_rest_channel_health_follows_its_setting(triager, tmp_path):
    for mode, status in (("off", 404), ("open", 200)):
        async with running_app(
            triager, f"sqlite+aiosqlite:///{tmp_path}/{mode}.db", rest_channel=mode
        ) as (_, http):
            response = await http.get("/webhooks/rest/")
            assert response.status_code == status
            if status == 200:
                assert response.json() == {"status": "ok"}


async def test_alert_ids_beyond_the_database_integer_are_refused(triager, database_url):
    async with running_app(triager, database_url) as (app, http):
        token = await coordinator_token(app)
        for alert_id in ("9223372036854775808", "2147483648", "0", "-1"):
            response = await http.post(
                f"/api/coordinator/alerts/{alert_id}/acknowledge",
                json={},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 422, (alert_id, response.text)
        missing = await http.post(
            "/api/coordinator/alerts/2147483647/acknowledge",
            json={},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert missing.status_code == 404
