"""Conversations in the database: one patient turn is one transaction.

The turn's patient message, the bot's messages, the new level and slots and any alerts are
committed together before the reply is returned; a failure leaves nothing half-written.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from app.alerts.rules import ACTIVE, OpenAlert, alert_change
from app.dialogue.runner import ConversationState, DialogueEngine, TurnOutcome
from app.store.models import Alert, AlertEvent, Conversation, Message
from app.triage.reply import response_line

REST_PREFIX = "rest:"
WIDGET_PREFIX = "widget:"
MAX_ATTEMPTS = 5  # concurrent turns on one conversation retry on a version conflict
REST_IDS_REMEMBERED = 10_000
T = TypeVar("T")


class ConversationNotFound(LookupError):
    """No conversation with this id and token (or sender)."""


@dataclass
class TurnReply:
    conversation_id: str
    messages: list[dict[str, Any]]
    outcome: TurnOutcome
    alert_ids: list[int]
    stored: list[dict[str, Any]]  # the bot's messages as stored (with seq and role)


def now_utc() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything here is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConversationService:
    def __init__(self, sessionmaker: async_sessionmaker, dialogue: DialogueEngine) -> None:
        self.sessionmaker = sessionmaker
        self.dialogue = dialogue
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._rest_ids: dict[str, str] = {}

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    # ------------------------------------------------------------------ create / find

    async def create_widget_conversation(
        self, lang: str = "en"
    ) -> tuple[str, str, list[dict[str, Any]]]:
        """A new widget conversation: (id, token, opening messages). Only the token's hash
        is stored."""
        conversation_id = uuid.uuid4().hex
        token = secrets.token_urlsafe(32)
        now = now_utc()
        state = self.dialogue.new_state(WIDGET_PREFIX + conversation_id)
        state.slots["lang"] = lang
        opening, slots = await self.dialogue.start_session(state)
        async with self.sessionmaker() as session, session.begin():
            conversation = Conversation(
                id=conversation_id,
                sender_id=state.sender_id,
                channel="widget",
                token_hash=hash_token(token),
                lang=lang,
                level="none",
                slots=slots,
                alerted=[],
                message_count=0,
                created_at=now,
                last_activity_at=now,
            )
            session.add(conversation)
            rows = self._add_messages(session, conversation, [("bot", m) for m in opening], now)
            stored = [public_message(row) for row in rows]
        return conversation_id, token, stored

    async def find_by_token(
        self, session: AsyncSession, conversation_id: str, token: str
    ) -> Conversation:
        conversation = await session.get(Conversation, conversation_id)
        if (
            conversation is None
            or conversation.token_hash is None
            or not hmac.compare_digest(conversation.token_hash, hash_token(token))
        ):
            raise ConversationNotFound(conversation_id)
        return conversation

    async def _rest_conversation_id(self, sender_id: str) -> str:
        """The REST channel's conversation for this sender, created on first contact (a
        sender's conversation never changes, so it is remembered: one transaction a turn)."""
        known = self._rest_ids.get(sender_id)
        if known is None:
            known = await self._find_or_create_rest(sender_id)
            if len(self._rest_ids) >= REST_IDS_REMEMBERED:
                self._rest_ids.pop(next(iter(self._rest_ids)))
            self._rest_ids[sender_id] = known
        return known

    async def _find_or_create_rest(self, sender_id: str) -> str:
        async with self.sessionmaker() as session:
            found = await session.scalar(
                select(Conversation.id).where(Conversation.sender_id == sender_id)
            )
            if found:
                return found
        state = self.dialogue.new_state(sender_id)
        try:
            async with self.sessionmaker() as session, session.begin():
                conversation = Conversation(
                    id=uuid.uuid4().hex,
                    sender_id=sender_id,
                    channel="rest",
                    lang="en",
                    level="none",
                    slots=state.slots,
                    alerted=[],
                    message_count=0,
                    created_at=now_utc(),
                    last_activity_at=None,
                )
                session.add(conversation)
            return conversation.id
        except IntegrityError:  # created concurrently by another request
            async with self.sessionmaker() as session:
                return await session.scalar(
                    select(Conversation.id).where(Conversation.sender_id == sender_id)
                )

    # ------------------------------------------------------------------ turns

    async def rest_turn(self, sender: str, text: str) -> TurnReply:
        """A REST channel turn; its senders have their own namespace (never a widget's)."""
        conversation_id = await self._rest_conversation_id(REST_PREFIX + sender)
        return await self.turn(conversation_id, text)

    async def widget_turn(self, conversation_id: str, token: str, text: str) -> TurnReply:
        async with self.sessionmaker() as session:
            await self.find_by_token(session, conversation_id, token)
        return await self.turn(conversation_id, text)

    async def turn(self, conversation_id: str, text: str) -> TurnReply:
        """Run one patient turn and commit it."""
        return await self._write(conversation_id, lambda s, c: self._turn_in(s, c, text))

    async def _write(
        self,
        conversation_id: str,
        work: Callable[[AsyncSession, Conversation], Awaitable[T]],
    ) -> T:
        """`work` on the locked conversation in one transaction, serialised with every other
        write to it (lock in this process, FOR UPDATE across processes on PostgreSQL, and a
        retry when the version column shows a concurrent commit)."""
        async with self._lock(conversation_id):
            for attempt in range(MAX_ATTEMPTS):
                try:
                    async with self.sessionmaker() as session, session.begin():
                        query = select(Conversation).where(Conversation.id == conversation_id)
                        if session.bind.dialect.name == "postgresql":
                            query = query.with_for_update()
                        conversation = await session.scalar(query)
                        if conversation is None:
                            raise ConversationNotFound(conversation_id)
                        return await work(session, conversation)
                except StaleDataError:
                    if attempt == MAX_ATTEMPTS - 1:
                        raise
                    await asyncio.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _turn_in(
        self, session: AsyncSession, conversation: Conversation, text: str
    ) -> TurnReply:
        now = now_utc()
        state = ConversationState(
            sender_id=conversation.sender_id,
            slots=dict(conversation.slots or {}),
            last_activity=aware(conversation.last_activity_at),
        )
        outcome = await self.dialogue.handle(state, text, now)
        rows = self._message_values(
            conversation,
            [("patient", {"text": text})] + [("bot", m) for m in outcome.messages],
            now,
        )
        for row in rows:  # the turn's level on each of its messages (and one INSERT)
            row["level"] = outcome.level
        rows[0].update(
            parse=outcome.parse,
            triage={
                "level": outcome.level,
                "categories": outcome.categories,
                "conversation_level": outcome.conversation_level,
                "unrecognised_complaint": bool(outcome.decision and outcome.decision.unrecognised),
            },
        )
        conversation.slots = outcome.slots
        conversation.level = outcome.conversation_level
        conversation.last_activity_at = now
        # One INSERT for the turn's messages (each statement costs a round trip).
        inserted = await session.execute(insert(Message).returning(Message.id, Message.seq), rows)
        patient_id = next(i for i, seq in inserted if seq == rows[0]["seq"])
        alert = await self._apply_alert(session, conversation, outcome, patient_id, now)
        stored = [_public(row) for row in rows[1:]]
        return TurnReply(
            conversation.id, outcome.messages, outcome, [alert.id] if alert else [], stored
        )

    async def _apply_alert(
        self,
        session: AsyncSession,
        conversation: Conversation,
        outcome: TurnOutcome,
        message_id: int | None,
        now: datetime,
    ) -> Alert | None:
        """Raise, escalate, update or note the conversation's one active alert; returns it
        when it changed in a way the receiver should hear about."""
        protocol = self.dialogue.triager.protocol
        if not (protocol.is_red(outcome.level) or outcome.handoff):
            return None  # nothing to change: no need to look
        row = await session.scalar(
            select(Alert).where(Alert.conversation_id == conversation.id, Alert.status.in_(ACTIVE))
        )
        current = None
        if row is not None:
            current = OpenAlert(row.severity, row.reason, row.level, tuple(row.categories or ()))
        change = alert_change(
            level=outcome.level,
            categories=outcome.categories,
            handoff=outcome.handoff,
            current=current,
            protocol=protocol,
        )
        if change is None:
            return None
        if row is None:
            row = Alert(
                conversation_id=conversation.id,
                message_id=message_id,
                status="open",
                created_at=now,
                delivery_attempts=0,
            )
            session.add(row)
        row.severity, row.reason = change.severity, change.reason
        row.level, row.categories = change.level, change.categories
        if change.reopen:
            row.status = "open"
        if change.kind != "repeated":  # the receiver hears of it again, as it is now
            row.delivery_status = "pending"
            row.next_attempt_at = now
        await session.flush()
        session.add(
            AlertEvent(
                alert_id=row.id,
                at=now,
                kind=change.kind,
                severity=change.severity,
                level=outcome.level,
                categories=list(outcome.categories),
                message_id=message_id,
            )
        )
        return None if change.kind == "repeated" else row

    async def write(
        self,
        conversation_id: str,
        work: Callable[[AsyncSession, Conversation], Awaitable[T]],
    ) -> T:
        """`work` on the conversation, serialised with its patient turns (see `_write`)."""
        return await self._write(conversation_id, work)

    def alert_resolved(self, session: AsyncSession, conversation: Conversation) -> dict[str, Any]:
        """A coordinator resolved the conversation's alert: the patient's emergency or urgent
        state ends (no more reminders, no banner) and the patient is told so."""
        protocol = self.dialogue.triager.protocol
        conversation.level = "none"
        conversation.slots = {**(conversation.slots or {}), "conversation_level": "none"}
        line = response_line(protocol, "utter_alert_resolved")
        assert line is not None  # worded the same for every infusion window
        custom = {**line.custom(), "conversation": {"level": "none", "alert": "resolved"}}
        now = now_utc()
        (row,) = self._add_messages(
            session, conversation, [("bot", {"text": line.text, "custom": custom})], now
        )
        conversation.last_activity_at = conversation.last_activity_at or now
        return {"seq": row.seq}

    async def coordinator_reply(
        self,
        conversation_id: str,
        author: str,
        text: str,
        also: Callable[[AsyncSession, dict[str, Any]], Awaitable[None]] | None = None,
    ) -> dict[str, Any]:
        """A care coordinator's message into the conversation; the widget shows it on its
        next poll. `also` runs in the same transaction (the audit entry)."""

        async def write(session: AsyncSession, conversation: Conversation) -> dict[str, Any]:
            now = now_utc()
            (row,) = self._add_messages(
                session, conversation, [("coordinator", {"text": text})], now
            )
            row.author = author
            conversation.last_activity_at = now
            await session.flush()
            message = public_message(row)
            if also is not None:
                await also(session, message)
            return message

        return await self._write(conversation_id, write)

    def _message_values(
        self, conversation: Conversation, items: list[tuple[str, dict[str, Any]]], now: datetime
    ) -> list[dict[str, Any]]:
        """Rows for new messages, numbered after the conversation's last one."""
        rows = []
        for role, message in items:
            conversation.message_count += 1
            rows.append(
                {
                    "conversation_id": conversation.id,
                    "seq": conversation.message_count,
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
            )
        return rows

    def _add_messages(
        self,
        session: AsyncSession,
        conversation: Conversation,
        items: list[tuple[str, dict[str, Any]]],
        now: datetime,
    ) -> list[Message]:
        rows = [Message(**values) for values in self._message_values(conversation, items, now)]
        session.add_all(rows)
        return rows

    # ------------------------------------------------------------------ reading

    async def widget_messages(
        self, conversation_id: str, token: str, after: int = 0
    ) -> list[dict[str, Any]]:
        async with self.sessionmaker() as session:
            await self.find_by_token(session, conversation_id, token)
            rows = (
                await session.scalars(
                    select(Message)
                    .where(Message.conversation_id == conversation_id, Message.seq > after)
                    .order_by(Message.seq)
                )
            ).all()
            return [public_message(row) for row in rows]


def public_message(row: Message) -> dict[str, Any]:
    """A stored message as the widget shows it (no parse details)."""
    return _public(
        {
            "seq": row.seq,
            "role": row.role,
            "text": row.text,
            "created_at": row.created_at,
            "buttons": row.buttons,
            "custom": row.custom,
        }
    )


def _public(row: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {
        "seq": row["seq"],
        "role": row["role"],
        "text": row["text"],
        "created_at": aware(row["created_at"]).isoformat(),
    }
    if row.get("buttons"):
        message["buttons"] = row["buttons"]
    if row.get("custom"):
        message["custom"] = row["custom"]
    if row["role"] == "coordinator":
        message["author"] = "Care team"  # the coordinator's username stays internal
    return message
