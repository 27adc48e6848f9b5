"""Multi-turn conversations through the REST channel and the widget API, on a real SQLite
file and a real PostgreSQL server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.store.models import Alert, Conversation, Message
from tests.conftest import running_app

DISCLAIMER = "automated assistant"


async def say(http, sender: str, text: str) -> list[dict]:
    response = await http.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply and all(m["recipient_id"] == sender for m in reply)
    return reply


def triage(reply: list[dict]) -> dict:
    return reply[0]["custom"]["triage"]


def texts(reply: list[dict]) -> str:
    return "\n".join(m["text"] for m in reply)


async def rows(app, model, *where):
    async with app.state.conversations.sessionmaker() as session:
        return (await session.scalars(select(model).where(*where))).all()


async def test_first_turn_opens_with_the_disclaimer(triager, database_url):
    async with running_app(triager, database_url) as (_, http):
        reply = await say(http, "p1", "hello")
        assert DISCLAIMER in reply[0]["text"] and "emergency number" in reply[0]["text"]
        assert triage(reply) == {"level": "none", "categories": [], "conversation_level": "none"}
        second = await say(http, "p1", "hello again")
        assert DISCLAIMER not in texts(second)


async def test_a_red_flag_is_answered_before_anything_else(triager, database_url):
    async with running_app(triager, database_url) as (app, http):
        reply = await say(http, "p1", "my skin and the whites of my eyes have gone yellow")
        assert reply[0]["text"].startswith("Do not take your next natalizumab dose")
        assert triage(reply) == {
            "level": "urgent",
            "categories": ["liver"],
            "conversation_level": "urgent",
        }
        assert DISCLAIMER in texts(reply)  # the session's disclaimer still comes, after
        assert "care team has been alerted" in texts(reply)
        [alert] = await rows(app, Alert)
        assert (alert.severity, alert.reason, alert.categories) == ("high", "urgent", ["liver"])


async def test_hives_then_still_on_the_drip_escalates_to_emergency(triager, database_url):
    async with running_app(triager, database_url) as (app, http):
        first = await say(http, "p1", "I've got hives all over")
        assert triage(first)["level"] == "urgent"
        assert triage(first)["categories"] == ["allergic_reaction"]
        question = first[-1]
        assert "infusion running" in question["text"] and question["buttons"]
        second = await say(http, "p1", "yes still on the drip")
        assert triage(second) == {
            "level": "emergency",
            "categories": ["infusion_reaction"],
            "conversation_level": "emergency",
        }
        assert second[0]["text"].startswith("Tell the infusion nurse right now")
        assert "next visit" not in texts(second)
        # One alert, escalated from high to critical (not a lesser one left open first).
        assert [a.severity for a in await rows(app, Alert)] == ["critical"]


async def test_timing_answer_no_keeps_the_out_of_window_level(triager, database_url):
    async with running_app(triager, database_url) as (_, http):
        await say(http, "p1", "I've got hives all over")
        reply = await say(http, "p1", "no, it was 3 weeks ago")
        assert triage(reply)["level"] == "urgent"
        assert triage(reply)["categories"] == ["allergic_reaction"]


async def test_timing_answer_by_button_payload(triager, database_url):
    async with running_app(triager, database_url) as (_, http):
        first = await say(http, "p1", "feeling shivery and hot")
        payload = next(
            b["payload"] for b in first[-1]["buttons"] if "less than 2 hours" in b["title"]
        )
        reply = await say(http, "p1", payload)
        assert triage(reply)["level"] == "emergency"
        assert triage(reply)["categories"] == ["infusion_reaction"]


async def test_unclear_timing_answer_is_asked_again_without_lowering(triager, database_url):
    async with running_app(triager, database_url) as (_, http):
        await say(http, "p1", "I've got hives all over")
        reply = await say(http, "p1", "what do you mean?")
        assert "infusion" in texts(reply)
        assert triage(reply)["conversation_level"] == "urgent"


async def test_routine_symptom_gets_self_care_and_a_red_flag_screen(triager, database_url):
    async with running_app(triager, database_url) as (app, http):
        reply = await say(http, "p1", "pretty tired since the last dose, otherwise fine")
        assert triage(reply)["level"] == "routine"
        assert "next infusion visit" in texts(reply)
        assert reply[-1]["buttons"] and "yellow skin" in reply[-1]["text"]
        answer = await say(http, "p1", "no")
        assert "Keep an eye on it" in texts(answer)
        assert triage(answer)["conversation_level"] == "routine"
        assert await rows(app, Alert) == []


async def test_red_flag_screen_answered_yes_asks_for_details(triager, database_url):
    async with running_app(triager, database_url) as (_, http):
        await say(http, "p1", "bit of a headache today")
        answer = await say(http, "p1", "yes")
        assert "in your own words" in texts(answer)
        late = await say(http, "p1", "my pee has gone really dark brown")
        assert triage(late) == {
            "level": "urgent",
            "categories": ["liver"],
            "conversation_level": "urgent",
        }


async def test_info_question_then_a_symptom(triager, database_url):
    async with running_app(triager, database_url) as (app, http):
        info = await say(http, "p1", "How often do I get the infusion?")
        assert triage(info) == {
            "level": "info",
            "categories": ["dosing"],
            "conversation_level": "info",
        }
        assert "300 mg" in texts(info)
        report = await say(http, "p1", "also my nose won't stop bleeding")
        assert triage(report)["level"] == "emergency"
        assert triage(report)["categories"][0] == "severe_bleeding"
        assert [a.severity for a in await rows(app, Alert)] == ["critical"]


async def test_thanks_and_goodbye_never_lower_the_level(triager, database_url):
    async with running_app(triager, database_url) as (_, http):
        await say(http, "p1", "my left leg has suddenly stopped working, I can't move it")
        for text in ("thanks", "hi", "ok bye"):
            reply = await say(http, "p1", text)
            assert triage(reply)["conversation_level"] == "emergency"
        assert "emergency number" in texts(reply)


async def test_asking_for_a_person_raises_a_handoff_alert(triager, database_url):
    async with running_app(triager, database_url) as (app, http):
        reply = await say(http, "p1", "can I talk to a real person please")
        assert "care coordinator" in texts(reply)
        [alert] = await rows(app, Alert)
        assert (alert.severity, alert.reason) == ("normal", "handoff")


async def test_out_of_scope_gets_a_helpful_fallback(triager, database_url):
    async with running_app(triager, database_url) as (_, http):
        reply = await say(http, "p1", "what's a good lasagne recipe")
        assert "natalizumab" in texts(reply)
        assert triage(reply)["level"] == "none"


async def test_session_expires_without_losing_history_or_level(triager, database_url):
    async with running_app(triager, database_url) as (app, http):
        await say(http, "p1", "my eyes look kind of yellow")
        three_hours_ago = datetime.now(UTC) - timedelta(hours=3)
        async with app.state.conversations.sessionmaker() as session, session.begin():
            await session.execute(  # as every writer does, it moves the version on
                update(Conversation).values(
                    last_activity_at=three_hours_ago, version=Conversation.version + 1
                )
            )
        reply = await say(http, "p1", "hi")
        assert DISCLAIMER in texts(reply)
        assert triage(reply)["conversation_level"] == "urgent"
        messages = await rows(app, Message)
        assert [m.role for m in messages][:2] == ["patient", "bot"]
        assert messages[0].text == "my eyes look kind of yellow"


async def test_restart_mid_conversation_keeps_level_and_slots(triager, database_url):
    async with running_app(triager, database_url) as (_, http):
        first = await say(http, "p1", "I've got hives all over")
        assert "infusion running" in first[-1]["text"]
    async with running_app(triager, database_url) as (app, http):
        reply = await say(http, "p1", "yes, still hooked up to the drip")
        assert triage(reply)["level"] == "emergency"
        assert triage(reply)["conversation_level"] == "emergency"
        assert len(await rows(app, Message)) == len(first) + 1 + len(reply) + 1


async def test_concurrent_turns_lose_nothing(triager, database_url):
    async with running_app(triager, database_url) as (app, http):
        await say(http, "p1", "hello")
        texts_sent = [f"question {n}: how often is the infusion?" for n in range(8)]
        await asyncio.gather(*(say(http, "p1", text) for text in texts_sent))
        messages = await rows(app, Message)
        assert sorted(m.seq for m in messages) == list(range(1, len(messages) + 1))
        stored = {m.text for m in messages if m.role == "patient"}
        assert set(texts_sent) <= stored
        [conversation] = await rows(app, Conversation)
        assert conversation.message_count == len(messages)


async def test_two_app_processes_share_one_database(triager, database_url):
    async with running_app(triager, database_url) as (app_a, http_a):
        async with running_app(triager, database_url) as (_, http_b):
            await say(http_a, "p1", "hello")
            sends = [
                say(http_a if n % 2 else http_b, "p1", f"note {n}: I'm tired") for n in range(6)
            ]
            await asyncio.gather(*sends)
            messages = await rows(app_a, Message)
            assert sorted(m.seq for m in messages) == list(range(1, len(messages) + 1))
            assert sum(m.role == "patient" for m in messages) == 7


async def test_a_turn_in_another_process_is_seen_by_the_next_turn_here(triager, database_url):
    """Each process starts a turn from what it last committed; a turn committed meanwhile by
    another process must not be overwritten (the version check re-reads and re-runs)."""
    async with running_app(triager, database_url) as (app_a, http_a):
        async with running_app(triager, database_url) as (_, http_b):
            asked = await say(http_a, "p1", "I've got hives all over")
            assert "infusion running" in asked[-1]["text"]
            answered = await say(http_b, "p1", "yes, still hooked up to the drip")
            assert triage(answered)["conversation_level"] == "emergency"
            after = await say(http_a, "p1", "thanks")
            assert triage(after)["conversation_level"] == "emergency"
            assert "infusion running" not in texts(after)  # the question was answered in B
            messages = await rows(app_a, Message)
            assert sorted(m.seq for m in messages) == list(range(1, len(messages) + 1))
            assert sum(m.role == "patient" for m in messages) == 3


async def test_rest_bad_input_is_refused_and_changes_nothing(triager, database_url):
    async with running_app(triager, database_url) as (app, http):
        await say(http, "p1", "hello")
        before = len(await rows(app, Message))
        bad = [
            {"sender": "p1", "message": ""},
            {"sender": "p1"},
            {"message": "hives"},
            {"sender": "", "message": "hives"},
            {"sender": "p1", "message": 12},
            {"sender": ["p1"], "message": "hives"},
        ]
        for body in bad:
            assert (await http.post("/webhooks/rest/webhook", json=body)).status_code == 422
        huge = await http.post(
            "/webhooks/rest/webhook", json={"sender": "p1", "message": "a" * 100_000}
        )
        assert huge.status_code == 413
        raw = await http.post(
            "/webhooks/rest/webhook", content=b"{oops", headers={"content-type": "application/json"}
        )
        assert raw.status_code == 422
        assert len(await rows(app, Message)) == before


async def test_a_message_in_an_unsupported_language_goes_to_a_person(triager, database_url):
    async with running_app(triager, database_url) as (app, http):
        reply = await say(http, "p1", "У меня пожелтели глаза")
        assert "only read English and Chinese" in texts(reply)
        assert "只能读懂英文和中文" in texts(reply)  # in both languages: it is neither
        [alert] = await rows(app, Alert)
        assert alert.reason == "handoff"
        [patient] = [m for m in await rows(app, Message) if m.role == "patient"]
        assert patient.text == "У меня пожелтели глаза"


async def test_a_chinese_red_flag_is_answered_in_chinese_and_alerts_as_critical(
    triager, database_url
):
    async with running_app(triager, database_url) as (app, http):
        reply = await say(http, "p1", "我正在输液，身上起了好多疙瘩很痒")
        assert triage(reply)["level"] == "emergency"
        assert "输液护士" in reply[0]["text"]  # the action line first, in Chinese
        alerted = [m["text"] for m in reply if "已通知" in m["text"]]
        assert alerted and not any(w in alerted[0] for w in ("hour", "minute", "Mon", "Sun"))
        [alert] = await rows(app, Alert)
        assert alert.severity == "critical"
        later = await say(http, "p1", "ok")  # too short to switch: still Chinese
        assert any("\u4e00" <= c <= "\u9fff" for c in texts(later))
