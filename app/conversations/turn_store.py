"""A patient turn's reads and writes, as SQLAlchemy Core statements built once.

The turn is the hot path: the ORM's unit of work and statement building cost a turn more
than its SQL did, so these functions run prepared Core statements on a plain (blocking)
Connection inside the caller's transaction (`app.store.db.Transactions`).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, or_, select, update

from app.alerts.rules import ACTIVE, AlertChange, OpenAlert
from app.store.models import Alert, AlertEvent, Conversation, Message

conversations = Conversation.__table__
messages = Message.__table__
alerts = Alert.__table__
alert_events = AlertEvent.__table__


class ConversationNotFound(LookupError):
    """No conversation with this id and token (or sender)."""


class TurnConflict(RuntimeError):
    """Another writer committed to the conversation since the turn read it."""


@dataclass(frozen=True)
class TurnStart:
    """The conversation as a turn read it; the turn commits only if it is still so."""

    conversation_id: str
    sender_id: str
    token_hash: str | None
    slots: dict[str, Any]
    last_activity_at: datetime | None
    message_count: int
    version: int


@dataclass(frozen=True)
class TurnWrite:
    """What a turn commits: the conversation's new state and the turn's messages."""

    slots: dict[str, Any]
    level: str
    at: datetime
    rows: list[dict[str, Any]]  # messages, the patient's first (see `message_rows`)
    # The safety net raised this turn or the NLU did not understand it: a coordinator
    # should look (the flag stays until the conversation is marked reviewed).
    needs_review: bool = False


_READ = select(
    conversations.c.sender_id,
    conversations.c.token_hash,
    conversations.c.slots,
    conversations.c.last_activity_at,
    conversations.c.message_count,
    conversations.c.version,
).where(conversations.c.id == bindparam("conversation_id"))

_SAVE = (
    update(conversations)
    .where(
        conversations.c.id == bindparam("conversation_id"),
        conversations.c.version == bindparam("read_version"),
    )
    .values(
        slots=bindparam("slots"),
        level=bindparam("level"),
        last_activity_at=bindparam("at"),
        message_count=bindparam("message_count"),
        version=bindparam("version"),
        needs_review=or_(conversations.c.needs_review, bindparam("needs_review")),
    )
)

_ADD_MESSAGES = insert(messages).returning(messages.c.id, messages.c.seq)

_ACTIVE_ALERT = select(
    alerts.c.id, alerts.c.severity, alerts.c.reason, alerts.c.level, alerts.c.categories
).where(alerts.c.conversation_id == bindparam("conversation_id"), alerts.c.status.in_(ACTIVE))

_RAISE = insert(alerts).returning(alerts.c.id)

_CHANGE_ALERT = update(alerts).where(alerts.c.id == bindparam("alert_id"))

_ADD_EVENT = insert(alert_events)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token_hash: str | None, token: str) -> bool:
    return token_hash is not None and hmac.compare_digest(token_hash, hash_token(token))


def read_turn_start(connection: Connection, conversation_id: str) -> TurnStart:
    """The conversation a turn starts from (the caller checks the token against it)."""
    row = connection.execute(_READ, {"conversation_id": conversation_id}).one_or_none()
    if row is None:
        raise ConversationNotFound(conversation_id)
    return TurnStart(
        conversation_id,
        row.sender_id,
        row.token_hash,
        row.slots or {},
        row.last_activity_at,
        row.message_count,
        row.version,
    )


def save_turn(connection: Connection, start: TurnStart, write: TurnWrite) -> int:
    """The conversation's new state and the turn's messages; returns the patient message's
    id. Raises TurnConflict when the conversation changed since `start` was read."""
    changed = connection.execute(
        _SAVE,
        {
            "conversation_id": start.conversation_id,
            "read_version": start.version,
            "slots": write.slots,
            "level": write.level,
            "at": write.at,
            "message_count": start.message_count + len(write.rows),
            "version": start.version + 1,
            "needs_review": write.needs_review,
        },
    )
    if changed.rowcount != 1:
        raise TurnConflict(start.conversation_id)
    inserted = connection.execute(_ADD_MESSAGES, write.rows).all()
    first = write.rows[0]["seq"]
    return next(message_id for message_id, seq in inserted if seq == first)


def active_alert(connection: Connection, conversation_id: str) -> tuple[int, OpenAlert] | None:
    row = connection.execute(_ACTIVE_ALERT, {"conversation_id": conversation_id}).one_or_none()
    if row is None:
        return None
    return row.id, OpenAlert(row.severity, row.reason, row.level, tuple(row.categories or ()))


def record_alert_change(
    connection: Connection,
    conversation_id: str,
    alert_id: int | None,
    change: AlertChange,
    *,
    level: str,
    categories: list[str],
    message_id: int | None,
    now: datetime,
) -> int:
    """Raise the alert (alert_id None) or change it, and add the change to its history;
    returns the alert's id."""
    values: dict[str, Any] = {
        "severity": change.severity,
        "reason": change.reason,
        "level": change.level,
        "categories": change.categories,
    }
    if change.reopen:
        values["status"] = "open"
    if change.kind != "repeated":  # the receiver hears of it again, as it is now
        values |= {"delivery_status": "pending", "next_attempt_at": now}
    if alert_id is None:
        values |= {
            "conversation_id": conversation_id,
            "message_id": message_id,
            "status": "open",
            "created_at": now,
            "delivery_attempts": 0,
        }
        alert_id = connection.execute(_RAISE, values).scalar_one()
    else:
        connection.execute(_CHANGE_ALERT.values(values), {"alert_id": alert_id})
    connection.execute(
        _ADD_EVENT,
        {
            "alert_id": alert_id,
            "at": now,
            "kind": change.kind,
            "severity": change.severity,
            "level": level,
            "categories": list(categories),
            "actor": None,
            "message_id": message_id,
        },
    )
    return alert_id


def message_rows(
    conversation_id: str, last_seq: int, items: list[tuple[str, dict[str, Any]]], now: datetime
) -> list[dict[str, Any]]:
    """Rows for new messages, numbered after the conversation's last one (`last_seq`)."""
    return [
        {
            "conversation_id": conversation_id,
            "seq": last_seq + n,
            "role": role,
            "text": message.get("text") or "",
            "buttons": message.get("buttons"),
            "custom": message.get("custom"),
            "created_at": now,
            # The same keys in every row: rows with the same keys go in one INSERT.
            "parse": None,
            "level": None,
            "triage": None,
            "author": None,
        }
        for n, (role, message) in enumerate(items, start=1)
    ]
