"""Per-client limits on the public patient endpoints: beyond them 429 with Retry-After,
nothing stored, other clients unaffected (real HTTP through httpx, a real SQLite file)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from app.store.models import Conversation, Message
from tests.conftest import running_app


def _from(app, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://local")


async def _rows(app, model) -> int:
    async with app.state.conversations.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model))


@pytest.fixture
async def limited_app(triager, tmp_path):
    async with running_app(
        triager,
        f"sqlite+aiosqlite:///{tmp_path}/limits.db",
        rate_limit_conversations="5/minute",
        rate_limit_messages="8/minute",
        rate_limit_messages_per_conversation="4/minute",
        rate_limit_triage="6/minute",
    ) as (app, http):
        yield app, http


async def test_creating_conversations_beyond_the_limit_gets_429(limited_app):
    app, http = limited_app
    for _ in range(5):
        assert (await http.post("/api/conversations", json={})).status_code == 201
    refused = await http.post("/api/conversations", json={})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert "too many" in refused.json()["detail"]
    assert await _rows(app, Conversation) == 5  # nothing stored for the refused one
    async with _from(app, "198.51.100.20") as other:  # another address is not affected
        assert (await other.post("/api/conversations", json={})).status_code == 201


async def test_messages_are_limited_per_conversation_and_per_address(limited_app):
    app, http = limited_app
    created = (await http.post("/api/conversations", json={})).json()
    url = f"/api/conversations/{created['id']}/messages"
    headers = {"Authorization": f"Bearer {created['token']}"}
    for n in range(4):
        answer = await http.post(url, json={"text": f"just tired today {n}"}, headers=headers)
        assert answer.status_code == 200
    stored = await _rows(app, Message)
    refused = await http.post(url, json={"text": "still tired"}, headers=headers)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert await _rows(app, Message) == stored
    # The conversation's messages can still be read (a page reloading keeps its history).
    assert (await http.get(url, headers=headers)).status_code == 200


async def test_the_triage_endpoint_is_limited_per_address(limited_app):
    app, http = limited_app
    for _ in range(6):
        assert (await http.post("/api/triage", json={"text": "headache"})).status_code == 200
    assert (await http.post("/api/triage", json={"text": "headache"})).status_code == 429
    async with _from(app, "198.51.100.21") as other:
        assert (await other.post("/api/triage", json={"text": "headache"})).status_code == 200


async def test_a_limit_left_empty_is_off(triager, tmp_path):
    async with running_app(
        triager, f"sqlite+aiosqlite:///{tmp_path}/off.db", rate_limit_conversations=""
    ) as (_, http):
        for _ in range(40):
            assert (await http.post("/api/conversations", json={})).status_code == 201


def test_a_malformed_limit_is_refused_at_start_up():
    from app.settings import Settings

    with pytest.raises(ValueError, match="TRIAGE_RATE_LIMIT_MESSAGES"):
        Settings(rate_limit_messages="lots per minute")
