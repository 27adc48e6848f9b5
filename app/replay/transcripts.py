"""Stored conversations as regression material: export one as a fixture, or re-run every
stored patient turn through the current build and list the conversations whose level would
now differ (lower first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.dialogue.runner import DialogueEngine
from app.store.models import Conversation, Message
from app.triage.protocol import default_protocol


class ConversationNotFound(LookupError):
    pass


async def _messages(session: AsyncSession, conversation_id: str) -> list[Message]:
    query = select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
    return list((await session.scalars(query)).all())


async def export_fixture(
    session: AsyncSession, conversation_id: str, name: str | None = None
) -> str:
    """A fixture (YAML) whose expectations are the decisions stored for each patient turn."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    messages = await _messages(session, conversation_id)
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "patient":
            triage = message.triage or {}
            expect: dict[str, Any] = {"level": triage.get("conversation_level", "none")}
            if triage.get("categories"):
                expect["categories_any"] = list(triage["categories"])
            turns.append({"user": message.text, "expect": expect})
        elif message.role == "bot" and turns:
            response = (message.custom or {}).get("response")
            if response and response != "utter_disclaimer":
                turns[-1]["expect"].setdefault("utter", []).append(response)
    if not turns:
        raise ConversationNotFound(f"{conversation_id} has no patient message")
    created = conversation.created_at.date().isoformat() if conversation.created_at else "unknown"
    document = {
        "fixture": name or f"conversation {conversation_id[:8]} ({created})",
        "lang": conversation.lang or "en",
        "tags": ["from_transcript"],
        "turns": turns,
    }
    header = (
        f"# Exported from conversation {conversation_id}: today's decisions as expectations.\n"
        "# Review them before adding this file to tests/conversations/.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


@dataclass
class LevelChange:
    conversation_id: str
    stored: str
    now: str
    turns: int

    @property
    def lower(self) -> bool:
        return default_protocol().rank(self.now) < default_protocol().rank(self.stored)


async def rerun_transcripts(
    session: AsyncSession, dialogue: DialogueEngine, since: datetime | None = None
) -> tuple[int, list[LevelChange]]:
    """Re-run every stored conversation's patient turns; returns how many were checked and
    those whose conversation level would differ, lower ones first."""
    query = select(Conversation).order_by(Conversation.created_at)
    if since is not None:
        query = query.where(Conversation.created_at >= since)
    conversations = list((await session.scalars(query)).all())
    changes: list[LevelChange] = []
    for conversation in conversations:
        patient = [m for m in await _messages(session, conversation.id) if m.role == "patient"]
        if not patient:
            continue
        state = dialogue.new_state(f"recheck:{conversation.id}")
        clock = datetime.now(UTC)
        for message in patient:
            outcome = await dialogue.handle(state, message.text, clock)
            state.slots, state.last_activity = outcome.slots, clock
            clock += timedelta(seconds=30)  # one session, as the turns were
        now_level = state.slots.get("conversation_level") or "none"
        if now_level != conversation.level:
            changes.append(
                LevelChange(conversation.id, conversation.level, now_level, len(patient))
            )
    changes.sort(
        key=lambda c: (
            not c.lower,
            default_protocol().rank(c.now) - default_protocol().rank(c.stored),
        )
    )
    return len(conversations), changes
