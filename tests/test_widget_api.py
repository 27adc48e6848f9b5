"""Widget API: conversations readable and writable with their own token only."""

from __future__ import annotations

import pytest

from tests.conftest import running_app


async def new_conversation(http) -> tuple[str, dict]:
    response = await http.post("/api/conversations", json={})
    assert response.status_code == 201
    body = response.json()
    assert body["id"] and len(body["token"]) >= 32
    assert "automated assistant" in body["messages"][0]["text"]
    return body["id"], {"Authorization": f"Bearer {body['token']}"}


async def test_post_and_read_with_the_token(triager, database_url):
    async with running_app(triager, database_url) as (_, http):
        conversation, auth = await new_conversation(http)
        reply = await http.post(
            f"/api/conversations/{conversation}/messages",
            json={"text": "my eyes look yellow"},
            headers=auth,
        )
        assert reply.status_code == 200
        assert reply.json()["messages"][0]["custom"]["triage"]["level"] == "urgent"
        history = (
            await http.get(f"/api/conversations/{conversation}/messages", headers=auth)
        ).json()["messages"]
        assert [m["role"] for m in history][:3] == ["bot", "patient", "bot"]
        assert history[1]["text"] == "my eyes look yellow"
        assert "parse" not in history[1]
        later = await http.get(f"/api/conversations/{conversation}/messages?after=2", headers=auth)
        assert [m["seq"] for m in later.json()["messages"]] == [m["seq"] for m in history[2:]]


async def test_token_a_cannot_read_or_write_conversation_b(triager, tmp_path):
    async with running_app(triager, f"sqlite+aiosqlite:///{tmp_path}/w.db") as (_, http):
        a, auth_a = await new_conversation(http)
        b, auth_b = await new_conversation(http)
        await http.post(
            f"/api/conversations/{b}/messages",
            json={"text": "private note about my rash"},
            headers=auth_b,
        )
        for method, url, kwargs in [
            ("GET", f"/api/conversations/{b}/messages", {"headers": auth_a}),
            (
                "POST",
                f"/api/conversations/{b}/messages",
                {"headers": auth_a, "json": {"text": "hi"}},
            ),
            ("GET", f"/api/conversations/{b}/messages", {}),
            ("GET", f"/api/conversations/{b}/messages", {"headers": {"Authorization": "Bearer "}}),
            (
                "GET",
                f"/api/conversations/{b}/messages",
                {"headers": {"Authorization": auth_b["Authorization"][:-2] + "xx"}},
            ),
            ("GET", "/api/conversations/nonexistent/messages", {"headers": auth_b}),
        ]:
            response = await http.request(method, url, **kwargs)
            assert response.status_code == 404, (method, url)
            assert "rash" not in response.text
        own = await http.get(f"/api/conversations/{b}/messages", headers=auth_b)
        assert "private note about my rash" in own.text
        assert a != b


@pytest.mark.parametrize("body", [{"text": ""}, {"text": 3}, {}, {"text": "   "}, {"text": "\x00"}])
async def test_bad_messages_are_422(triager, tmp_path, body):
    async with running_app(triager, f"sqlite+aiosqlite:///{tmp_path}/w.db") as (_, http):
        conversation, auth = await new_conversation(http)
        response = await http.post(
            f"/api/conversations/{conversation}/messages", json=body, headers=auth
        )
        assert response.status_code == 422
        history = (
            await http.get(f"/api/conversations/{conversation}/messages", headers=auth)
        ).json()
        assert len(history["messages"]) == 1


async def test_unknown_language_is_422(triager, tmp_path):
    async with running_app(triager, f"sqlite+aiosqlite:///{tmp_path}/w.db") as (_, http):
        assert (await http.post("/api/conversations", json={"lang": "fr"})).status_code == 422
