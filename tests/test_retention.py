"""Retention: `triagebot purge` and `triagebot delete-conversation`, run as real processes
on a real SQLite file written by the real service: the patient's words go, the record that
care was given (alerts, who acted when, the audit log) stays."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from datetime import timedelta

from sqlalchemy import update

from app.conversations.service import now_utc
from app.store.models import Conversation, Note
from tests.conftest import running_app
from tests.test_cli import TRIAGEBOT

OLD_WORDS = "my eyes look kind of yellow since tuesday zebra"
NEW_WORDS = "just tired today, nothing else giraffe"


def triagebot(database, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    return subprocess.run([TRIAGEBOT, *args], capture_output=True, text=True, timeout=120, env=env)


async def _conversation(http, text: str) -> str:
    created = (await http.post("/api/conversations", json={})).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    answer = await http.post(
        f"/api/conversations/{created['id']}/messages", json={"text": text}, headers=headers
    )
    assert answer.status_code == 200
    return created["id"]


def _raw(database) -> bytes:
    """The database's bytes on disk, with its write-ahead log: what a stolen copy holds."""
    wal = database.with_name(database.name + "-wal")
    return database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _dump(database) -> str:
    with sqlite3.connect(database) as db:
        return "\n".join(db.iterdump())


async def _two_conversations(triager, database) -> tuple[str, str]:
    async with running_app(triager, f"sqlite+aiosqlite:///{database}") as (app, http):
        old = await _conversation(http, OLD_WORDS)
        new = await _conversation(http, NEW_WORDS)
        async with app.state.conversations.sessionmaker() as session, session.begin():
            session.add(Note(conversation_id=old, author="alice", text="rang her: zebra"))
            await session.execute(
                update(Conversation)
                .where(Conversation.id == old)
                .values(last_activity_at=now_utc() - timedelta(days=100))
            )
    return old, new


async def test_purge_forgets_old_words_and_keeps_the_record(triager, tmp_path):
    database = tmp_path / "retention.db"
    old, new = await _two_conversations(triager, database)
    assert "zebra" in _dump(database) and b"zebra" in _raw(database)
    done = triagebot(database, "purge", "--older-than", "30", "--yes")
    assert done.returncode == 0, done.stderr
    assert "1 conversation" in done.stdout
    dump = _dump(database)
    assert "zebra" not in dump  # not in messages, parses, notes or anywhere else
    assert b"zebra" not in _raw(database)  # nor in free pages or the log file
    assert "giraffe" in dump  # the recent conversation is untouched
    with sqlite3.connect(database) as db:
        assert db.execute(
            "select count(*) from messages where conversation_id=?", (old,)
        ).fetchone() == (0,)
        severity, level = db.execute(
            "select severity, level from alerts where conversation_id=?", (old,)
        ).fetchone()
        assert (severity, level) == ("high", "urgent")  # the alert stays, without text
        actor, detail = db.execute(
            "select actor, detail from audit_log where action='purge_conversation' "
            "and conversation_id=?",
            (old,),
        ).fetchone()
        assert actor.startswith("cli:") and "100" not in detail and "30 days" in detail
    again = triagebot(database, "purge", "--older-than", "30", "--yes")
    assert again.returncode == 0 and "0 conversations" in again.stdout


async def test_one_conversation_is_deleted_on_request(triager, tmp_path):
    database = tmp_path / "request.db"
    old, new = await _two_conversations(triager, database)
    done = triagebot(database, "delete-conversation", new, "--reason", "patient asked, ticket 42")
    assert done.returncode == 0, done.stderr
    assert "giraffe" not in _dump(database) and "zebra" in _dump(database)
    assert b"giraffe" not in _raw(database)
    with sqlite3.connect(database) as db:
        (detail,) = db.execute(
            "select detail from audit_log where action='purge_conversation'"
        ).fetchone()
        assert detail == "patient asked, ticket 42"
    unknown = triagebot(database, "delete-conversation", "nosuchid", "--reason", "x")
    assert unknown.returncode == 2 and "no conversation" in unknown.stderr
    # The widget's link to it no longer opens anything.
    async with running_app(triager, f"sqlite+aiosqlite:///{database}") as (_, http):
        read = await http.get(
            f"/api/conversations/{new}/messages", headers={"Authorization": "Bearer anything"}
        )
        assert read.status_code == 404


def test_purge_needs_a_number_of_days(tmp_path):
    done = triagebot(tmp_path / "x.db", "purge", "--yes")
    assert done.returncode == 2 and "--older-than" in done.stderr


async def test_deleted_words_leave_the_file_while_the_service_runs(triager, tmp_path):
    """With the service running (its connections keep SQLite's write-ahead log), a
    deletion's old page copies must not stay readable in the -wal file: the CLI
    checkpoints and empties it, and deleted rows are overwritten (secure_delete)."""
    database = tmp_path / "live.db"
    old, new = await _two_conversations(triager, database)
    async with running_app(triager, f"sqlite+aiosqlite:///{database}") as (_, http):
        await _conversation(http, "a wombat bit me and now there is a rash")  # WAL in use
        assert b"wombat" in _raw(database)
        done = triagebot(database, "delete-conversation", old, "--reason", "patient asked")
        assert done.returncode == 0, done.stderr
        assert b"zebra" not in _raw(database)
        assert b"giraffe" in _raw(database)  # the other conversation is untouched
