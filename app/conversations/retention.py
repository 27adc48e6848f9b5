"""Retention: forgetting what patients wrote while keeping the record that care was given.

Purging a conversation deletes its messages (the patient's words, the replies, their
parses), the coordinators' notes on it and the notes on its alerts, and makes its widget
link and REST sender id unusable. What stays: the conversation's id, channel, language,
level and dates; its alerts with severity, categories, who acknowledged and resolved them
when, and their delivery record; the audit log, which says who purged what and when.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.conversations.service import now_utc
from app.coordinator.casework import audit
from app.store.models import Alert, AlertEvent, Conversation, Message, Note

PURGED_PREFIX = "purged:"  # a purged conversation's sender id


async def purge_conversation(
    session: AsyncSession, conversation_id: str, *, actor: str, via: str, reason: str
) -> bool:
    """Purge one conversation (False when there is none with that id)."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        return False
    await session.execute(
        update(Alert)
        .where(Alert.conversation_id == conversation_id)
        .values(note=None, message_id=None)
    )
    alert_ids = select(Alert.id).where(Alert.conversation_id == conversation_id)
    await session.execute(
        update(AlertEvent).where(AlertEvent.alert_id.in_(alert_ids)).values(message_id=None)
    )
    await session.execute(delete(Note).where(Note.conversation_id == conversation_id))
    await session.execute(delete(Message).where(Message.conversation_id == conversation_id))
    conversation.sender_id = PURGED_PREFIX + conversation_id
    conversation.token_hash = None
    conversation.slots = {}
    await audit(
        session, actor, "purge_conversation", via, conversation_id=conversation_id, detail=reason
    )
    return True


async def purge_older_than(session: AsyncSession, days: float, *, actor: str) -> int:
    """Purge every conversation with no activity for `days` days; returns how many."""
    cutoff = now_utc() - timedelta(days=days)
    ids = (
        await session.scalars(
            select(Conversation.id).where(
                func.coalesce(Conversation.last_activity_at, Conversation.created_at) < cutoff,
                Conversation.sender_id.not_like(f"{PURGED_PREFIX}%"),
            )
        )
    ).all()
    for conversation_id in ids:
        await purge_conversation(
            session,
            conversation_id,
            actor=actor,
            via="cli",
            reason=f"no activity for {days:g} days",
        )
    return len(ids)
