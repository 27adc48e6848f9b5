"""A database outage (issue 11, defect 1): the service answers 503 JSON with Retry-After,
saves nothing half-written, logs one line without patient text, and serves again when the
database is back. A real PostgreSQL database is taken away and given back."""

from __future__ import annotations

import logging

import asyncpg
from sqlalchemy import func, select

from app.store.models import Message
from tests.conftest import _create_database, running_app

SECRET = "my eyes look kind of yellow, ask for Ms Quartermaine-Outage"


async def _set_connections(server: str, name: str, allowed: bool) -> None:
    admin = await asyncpg.connect(server.replace("postgresql+asyncpg", "postgresql") + "/postgres")
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
    finally:
        await admin.close()


async def test_a_database_outage_is_a_503_and_nothing_is_lost(triager, postgres_server, caplog):
    url = await _create_database(postgres_server)
    name = url.rsplit("/", 1)[1]
    async with running_app(triager, url) as (app, http):
        created = (await http.post("/api/conversations", json={})).json()
        headers = {"Authorization": f"Bearer {created['token']}"}
        path = f"/api/conversations/{created['id']}/messages"
        assert (await http.post(path, json={"text": "hello"}, headers=headers)).status_code == 200
        async with app.state.conversations.sessionmaker() as session:
            before = await session.scalar(select(func.count()).select_from(Message))

        await _set_connections(postgres_server, name, allowed=False)
        try:
            with caplog.at_level(logging.INFO):
                during = await http.post(path, json={"text": SECRET}, headers=headers)
                health = await http.get("/healthz")
                live = await http.get("/livez")
        finally:
            await _set_connections(postgres_server, name, allowed=True)

        assert during.status_code == 503, during.text
        assert during.headers["retry-after"] == "5"
        assert "nothing was saved" in during.json()["detail"]
        assert health.status_code == 503 and live.status_code == 200
        logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
        assert "Quartermaine" not in logged and "yellow" not in logged
        assert "database unavailable" in logged

        again = await http.post(path, json={"text": SECRET}, headers=headers)
        assert again.status_code == 200, again.text
        async with app.state.conversations.sessionmaker() as session:
            after = await session.scalar(select(func.count()).select_from(Message))
            texts = (await session.scalars(select(Message.text))).all()
        assert texts.count(SECRET) == 1  # the failed turn left nothing; the retry is stored
        assert after > before
        assert (await http.get("/readyz")).status_code == 200
