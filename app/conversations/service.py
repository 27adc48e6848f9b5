"""Conversations in the database: one patient turn is one transaction.

The turn's patient message, the bot's messages, the new level and slots and any alerts are
committed together before the reply is returned; a failure leaves nothing half-written.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from app.alerts.rules import alert_change
from app.conversations import turn_store
from app.conversations.turn_store import (
    ConversationNotFound,
    TurnConflict,
    TurnStart,
    TurnWrite,
    hash_token,
    message_rows,
    token_matches,
)
from app.dialogue.runner import ConversationState, DialogueEngine, TurnOutcome
from app.observability.logs import bind_conversation
from app.observability.metrics import Metrics
from app.store.db import Transactions
from app.store.models import Conversation, Message
from app.triage.reply import response_line

REST_PREFIX = "rest:"
WIDGET_PREFIX = "widget:"
MAX_ATTEMPTS = 5  # concurrent turns on one conversation retry on a version conflict
CONVERSATIONS_REMEMBERED = 10_000  # REST sender ids and recent turn starts
T = TypeVar("T")
V = TypeVar("V")


@dataclass
class TurnReply:
    conversation_id: str
    messages: list[dict[str, Any]]
    outcome: TurnOutcome
    alert_ids: list[int]
    stored: list[dict[str, Any]]  # the bot's messages as stored (with seq and role)


def remember(cache: dict[str, V], key: str, value: V) -> None:
    """Keep `value` in a bounded cache, dropping the oldest entry (turn starts are taken
    out when used and put back, so for them the oldest is the least recently used)."""
    if len(cache) >= CONVERSATIONS_REMEMBERED:
        cache.pop(next(iter(cache)))
    cache[key] = value


def needs_review(outcome: TurnOutcome) -> str | None:
    """Why a coordinator should look at this turn: the red-flag safety net raised its
    level ("safety_net"), or the NLU did not understand it ("not_understood": no intent,
    or a complaint with no sign it knows); None for an ordinary turn."""
    decision = outcome.decision
    if decision is None:  # a button press or a restart: nothing was read
        return None
    if decision.result is not None and decision.result.safety_net:
        return "safety_net"
    if decision.intent == "nlu_fallback" or decision.unrecognised:
        return "not_understood"
    return None


def now_utc() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything here is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class ConversationService:
    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        dialogue: DialogueEngine,
        transactions: Transactions,
        metrics: Metrics | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.metrics = metrics
        self.dialogue = dialogue
        self.transactions = transactions  # a patient turn's reads and writes
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._rest_ids: dict[str, str] = {}
        # What this process last committed for recent conversations: a turn starts from it
        # without reading, and the commit's version check catches any other writer.
        self._starts: dict[str, TurnStart] = {}

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
        bind_conversation(conversation_id)
        token = secrets.token_urlsafe(32)
        now = now_utc()
        state = self.dialogue.new_state(WIDGET_PREFIX + conversation_id)
        state.slots["lang"] = lang
        state.slots["language"] = lang  # replies in it until the patient writes otherwise
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
        if conversation is None or not token_matches(conversation.token_hash, token):
            raise ConversationNotFound(conversation_id)
        return conversation

    async def _rest_conversation_id(self, sender_id: str) -> str:
        """The REST channel's conversation for this sender, created on first contact (a
        sender's conversation never changes, so it is remembered: one transaction a turn)."""
        known = self._rest_ids.get(sender_id)
        if known is None:
            known = await self._find_or_create_rest(sender_id)
            remember(self._rest_ids, sender_id, known)
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
        return self._counted("rest", await self.turn(conversation_id, text))

    async def widget_turn(self, conversation_id: str, token: str, text: str) -> TurnReply:
        return self._counted("widget", await self.turn(conversation_id, text, token))

    def _counted(self, channel: str, reply: TurnReply) -> TurnReply:
        if self.metrics is not None:
            level = reply.outcome.level
            self.metrics.turns.labels(channel, level).inc()
            if reply.alert_ids:
                self.metrics.alerts.labels(level).inc(len(reply.alert_ids))
        return reply

    async def turn(self, conversation_id: str, text: str, token: str | None = None) -> TurnReply:
        """Run one patient turn and commit it (with `token`, only if it is the
        conversation's).

        Optimistic: the dialogue runs on the conversation as this process last saw it, and
        the turn commits only if the conversation's version is still that one; otherwise
        (another process or a coordinator wrote meanwhile) it is read again and the turn
        runs again. Usually one database transaction a turn."""
        bind_conversation(conversation_id)
        async with self._lock(conversation_id):
            for attempt in range(MAX_ATTEMPTS):
                start = self._starts.pop(conversation_id, None)
                if start is None:
                    start = await self.transactions.run(turn_store.read_turn_start, conversation_id)
                if token is not None and not token_matches(start.token_hash, token):
                    raise ConversationNotFound(conversation_id)
                now = now_utc()
                state = ConversationState(
                    sender_id=start.sender_id,
                    slots=dict(start.slots),
                    last_activity=aware(start.last_activity_at),
                )
                outcome = await self.dialogue.handle(state, text, now)
                try:
                    reply = await self.transactions.run(
                        self._commit_turn, start, text, outcome, now
                    )
                except TurnConflict:
                    if attempt == MAX_ATTEMPTS - 1:
                        raise
                    await asyncio.sleep(0.01 * (attempt + 1))
                    continue
                after = replace(
                    start,
                    slots=outcome.slots,
                    last_activity_at=now,
                    message_count=start.message_count + 1 + len(outcome.messages),
                    version=start.version + 1,
                )
                remember(self._starts, conversation_id, after)
                return reply
        raise AssertionError("unreachable")

    async def _write(
        self,
        conversation_id: str,
        work: Callable[[AsyncSession, Conversation], Awaitable[T]],
    ) -> T:
        """`work` on the locked conversation in one transaction, serialised with every other
        write to it (lock in this process, FOR UPDATE across processes on PostgreSQL, and a
        retry when the version column shows a concurrent commit)."""
        async with self._lock(conversation_id):
            self._starts.pop(conversation_id, None)  # this write changes it
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

    def _commit_turn(
        self,
        connection: Connection,
        start: TurnStart,
        text: str,
        outcome: TurnOutcome,
        now: datetime,
    ) -> TurnReply:
        rows = message_rows(
            start.conversation_id,
            start.message_count,
            [("patient", {"text": text})] + [("bot", m) for m in outcome.messages],
            now,
        )
        for row in rows:  # the turn's level on each of its messages
            row["level"] = outcome.level
        review = needs_review(outcome)
        rows[0].update(
            parse=outcome.parse,
            triage={
                "level": outcome.level,
                "categories": outcome.categories,
                "conversation_level": outcome.conversation_level,
                "unrecognised_complaint": bool(outcome.decision and outcome.decision.unrecognised),
                "needs_review": review,
                # which rules decided it (the protocol page shows the current version)
                "protocol_version": self.dialogue.triager.protocol_version,
            },
        )
        write = TurnWrite(outcome.slots, outcome.conversation_level, now, rows, bool(review))
        patient_id = turn_store.save_turn(connection, start, write)
        alert_id = self._apply_alert(connection, start.conversation_id, outcome, patient_id, now)
        stored = [_public(row) for row in rows[1:]]
        return TurnReply(
            start.conversation_id,
            outcome.messages,
            outcome,
            [alert_id] if alert_id else [],
            stored,
        )

    def _apply_alert(
        self,
        connection: Connection,
        conversation_id: str,
        outcome: TurnOutcome,
        message_id: int,
        now: datetime,
    ) -> int | None:
        """Raise, escalate, update or note the conversation's one active alert; returns its
        id when it changed in a way the receiver should hear about."""
        protocol = self.dialogue.triager.protocol
        if not (protocol.is_red(outcome.level) or outcome.handoff):
            return None  # nothing to change: no need to look
        found = turn_store.active_alert(connection, conversation_id)
        alert_id, current = found if found else (None, None)
        change = alert_change(
            level=outcome.level,
            categories=outcome.categories,
            handoff=outcome.handoff,
            current=current,
            protocol=protocol,
        )
        if change is None:
            return None
        alert_id = turn_store.record_alert_change(
            connection,
            conversation_id,
            alert_id,
            change,
            level=outcome.level,
            categories=outcome.categories,
            message_id=message_id,
            now=now,
        )
        return None if change.kind == "repeated" else alert_id

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

    def _add_messages(
        self,
        session: AsyncSession,
        conversation: Conversation,
        items: list[tuple[str, dict[str, Any]]],
        now: datetime,
    ) -> list[Message]:
        values = message_rows(conversation.id, conversation.message_count, items, now)
        conversation.message_count += len(values)
        rows = [Message(**row) for row in values]
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
