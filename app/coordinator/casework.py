"""What coordinators read and do: the alert queue, conversations, transcripts, notes.

Plain async functions over a database session; the routes add sign-in, CSRF and the
audit entry around them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import and_, case, exists, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.conversations.service import aware, now_utc
from app.nlu.models import CONTEXT_FLAGS
from app.store.models import (
    Alert,
    AlertEvent,
    AuditEntry,
    Conversation,
    ConversationTag,
    Message,
    Note,
)
from app.triage.protocol import Protocol

AlertStatus = Literal["open", "acknowledged", "resolved"]
SEVERITY_ORDER = {"critical": 0, "high": 1, "normal": 2}
MAX_NOTE_CHARS = 5000


class NotFound(LookupError):
    """No such alert or conversation."""


class InvalidChange(ValueError):
    """The change cannot be made (e.g. acknowledging a resolved alert)."""


def iso(moment: datetime | None) -> str | None:
    return aware(moment).isoformat() if moment is not None else None


# ---------------------------------------------------------------------- audit


async def audit(
    session: AsyncSession,
    actor: str,
    action: str,
    via: str,
    *,
    conversation_id: str | None = None,
    alert_id: int | None = None,
    detail: str | None = None,
) -> None:
    session.add(
        AuditEntry(
            at=now_utc(),
            actor=actor,
            action=action,
            via=via,
            conversation_id=conversation_id,
            alert_id=alert_id,
            detail=detail,
        )
    )


async def audit_list(
    session: AsyncSession, actor: str, via: str, filters: ConversationFilter
) -> None:
    """A conversation-list read; a text search is its own action (it reveals which
    conversations mention something)."""
    detail = filters.describe() or None
    await audit(session, actor, "search" if filters.q else "view_list", via, detail=detail)


async def audit_entries(
    session: AsyncSession, page: int, per_page: int, actor: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return [
        {
            "id": row.id,
            "at": iso(row.at),
            "actor": row.actor,
            "action": row.action,
            "via": row.via,
            "conversation_id": row.conversation_id,
            "alert_id": row.alert_id,
            "detail": row.detail,
        }
        for row in rows
    ], total or 0


# ---------------------------------------------------------------------- alerts


def alert_dict(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "conversation_id": alert.conversation_id,
        "severity": alert.severity,
        "reason": alert.reason,
        "level": alert.level,
        "categories": list(alert.categories or []),
        "status": alert.status,
        "note": alert.note,
        "created_at": iso(alert.created_at),
        "acknowledged_at": iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by,
        "resolved_at": iso(alert.resolved_at),
        "resolved_by": alert.resolved_by,
        "delivery_status": alert.delivery_status,
    }


STATUS_ORDER = {"open": 0, "acknowledged": 1, "resolved": 2}
EXCERPT_CHARS = 80


def patient_label(conversation_id: str) -> str:
    """A pseudonym to tell rows apart and speak of a patient on the phone ("P-3F9A2C"),
    not their name: the conversation id's first characters."""
    return "P-" + conversation_id[:6].upper()


async def alert_queue(
    session: AsyncSession, statuses: tuple[str, ...] = ("open", "acknowledged")
) -> list[dict[str, Any]]:
    """Alerts still to handle: open before acknowledged, then emergencies (critical) first,
    then the longest waiting. Each row names the patient by pseudonym, the conversation's
    level now and the first words of the message that raised it."""
    status_rank = case(STATUS_ORDER, value=Alert.status, else_=9)
    severity_rank = case(SEVERITY_ORDER, value=Alert.severity, else_=9)
    rows = await session.execute(
        select(Alert, Conversation.level, Message.text)
        .join(Conversation, Conversation.id == Alert.conversation_id)
        .outerjoin(Message, Message.id == Alert.message_id)
        .where(Alert.status.in_(statuses))
        .order_by(status_rank, severity_rank, Alert.created_at, Alert.id)
    )
    queue = []
    for alert, conversation_level, text in rows:
        excerpt = " ".join((text or "").split())
        if len(excerpt) > EXCERPT_CHARS:
            excerpt = excerpt[: EXCERPT_CHARS - 1].rstrip() + "…"
        queue.append(
            {
                **alert_dict(alert),
                "patient": patient_label(alert.conversation_id),
                "conversation_level": conversation_level,
                "excerpt": excerpt,
            }
        )
    return queue


async def alert_conversation(session: AsyncSession, alert_id: int) -> str | None:
    return await session.scalar(select(Alert.conversation_id).where(Alert.id == alert_id))


def _done_by(alert: Alert, done: str, who: str | None, when: datetime | None) -> str:
    """Who got there first, and when: the second coordinator knows whom to talk to."""
    at = f" at {aware(when):%Y-%m-%d %H:%M} UTC" if when else ""
    return f"alert {alert.id} was already {done} by {who or 'someone'}{at}"


async def change_alert(
    session: AsyncSession,
    alert_id: int,
    action: Literal["acknowledge", "resolve"],
    actor: str,
    note: str | None,
) -> dict[str, Any]:
    alert = await session.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    now = now_utc()
    if alert.status == "resolved":
        raise InvalidChange(_done_by(alert, "resolved", alert.resolved_by, alert.resolved_at))
    if action == "acknowledge":
        if alert.status == "acknowledged":
            raise InvalidChange(
                _done_by(alert, "acknowledged", alert.acknowledged_by, alert.acknowledged_at)
            )
        alert.status = "acknowledged"
        alert.acknowledged_at = now
        alert.acknowledged_by = actor
    else:
        if alert.acknowledged_at is None:  # resolving implies having seen it
            alert.acknowledged_at = now
            alert.acknowledged_by = actor
        alert.status = "resolved"
        alert.resolved_at = now
        alert.resolved_by = actor
    session.add(
        AlertEvent(
            alert_id=alert.id,
            at=now,
            kind="acknowledged" if action == "acknowledge" else "resolved",
            severity=alert.severity,
            level=alert.level,
            categories=list(alert.categories or []),
            actor=actor,
        )
    )
    if note:
        alert.note = note
        session.add(
            Note(
                conversation_id=alert.conversation_id,
                alert_id=alert.id,
                author=actor,
                text=note,
                created_at=now,
            )
        )
    await session.flush()
    return alert_dict(alert)


# ---------------------------------------------------------------------- conversations


@dataclass(frozen=True)
class ConversationFilter:
    level: str | None = None
    alert_status: Literal["open", "acknowledged", "resolved", "none"] | None = None
    since: date | None = None  # last activity on or after this day (UTC)
    until: date | None = None  # last activity on or before this day (UTC)
    q: str | None = None  # text written by the patient or the care team
    review: Literal["needs_review", "reviewed", "not_reviewed"] | None = None
    tag: str | None = None
    category: str | None = None  # a patient turn was triaged into it
    intent: str | None = None  # a patient turn was read as it
    channel: Literal["widget", "rest"] | None = None
    lang: str | None = None
    page: int = 1
    per_page: int = 25

    def as_query(self) -> dict[str, str]:
        """The filter as URL query parameters (for links to other pages and exports)."""
        values = {
            "level": self.level,
            "alert_status": self.alert_status,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "q": self.q,
            "review": self.review,
            "tag": self.tag,
            "category": self.category,
            "intent": self.intent,
            "channel": self.channel,
            "lang": self.lang,
        }
        return {key: value for key, value in values.items() if value}

    def describe(self) -> str:
        """ "level=emergency, since=2026-12-01", for the audit log ("" for no filter)."""
        return ", ".join(f"{key}={value}" for key, value in self.as_query().items())


def _alert_with(status: str):
    return exists().where(Alert.conversation_id == Conversation.id, Alert.status == status)


def _conditions(filters: ConversationFilter) -> list[Any]:
    conditions: list[Any] = []
    if filters.level:
        conditions.append(Conversation.level == filters.level)
    if filters.alert_status == "open":
        conditions.append(_alert_with("open"))
    elif filters.alert_status == "acknowledged":
        conditions.append(and_(_alert_with("acknowledged"), not_(_alert_with("open"))))
    elif filters.alert_status == "resolved":
        conditions.append(
            and_(
                _alert_with("resolved"),
                not_(_alert_with("open")),
                not_(_alert_with("acknowledged")),
            )
        )
    elif filters.alert_status == "none":
        conditions.append(not_(exists().where(Alert.conversation_id == Conversation.id)))
    activity = func.coalesce(Conversation.last_activity_at, Conversation.created_at)
    if filters.since:
        conditions.append(activity >= datetime.combine(filters.since, time.min))
    if filters.until:
        conditions.append(activity < datetime.combine(filters.until + timedelta(days=1), time.min))
    if filters.q:
        conditions.append(
            exists().where(
                Message.conversation_id == Conversation.id,
                Message.role != "bot",  # the bot's stock texts would match everything
                Message.text.icontains(filters.q, autoescape=True),
            )
        )
    if filters.review == "needs_review":
        conditions.append(Conversation.needs_review.is_(True))
    elif filters.review == "reviewed":
        conditions.append(Conversation.reviewed_at.is_not(None))
    elif filters.review == "not_reviewed":
        conditions.append(Conversation.reviewed_at.is_(None))
    if filters.tag:
        conditions.append(
            exists().where(
                ConversationTag.conversation_id == Conversation.id,
                ConversationTag.tag == filters.tag,
            )
        )
    if filters.category:
        # The turn's categories are a JSON list; its text holds each name in quotes
        # (names are protocol identifiers, so no name is part of another in quotes).
        conditions.append(
            exists().where(
                Message.conversation_id == Conversation.id,
                Message.role == "patient",
                Message.triage["categories"].as_string().contains(f'"{filters.category}"'),
            )
        )
    if filters.intent:
        conditions.append(
            exists().where(
                Message.conversation_id == Conversation.id,
                Message.role == "patient",
                Message.parse["intent"]["name"].as_string() == filters.intent,
            )
        )
    if filters.channel:
        conditions.append(Conversation.channel == filters.channel)
    if filters.lang:
        conditions.append(Conversation.lang == filters.lang)
    return conditions


async def _alert_summary(session: AsyncSession, ids: list[str]) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = {cid: {"alert_status": "none", "alerts": 0} for cid in ids}
    if not ids:
        return summary
    rank = {"open": 3, "acknowledged": 2, "resolved": 1, "none": 0}
    rows = await session.execute(
        select(Alert.conversation_id, Alert.status, Alert.categories).where(
            Alert.conversation_id.in_(ids)
        )
    )
    tags = await session.execute(
        select(ConversationTag.conversation_id, ConversationTag.tag)
        .where(ConversationTag.conversation_id.in_(ids))
        .order_by(ConversationTag.tag)
    )
    for conversation_id, tag in tags:
        summary[conversation_id].setdefault("tags", []).append(tag)
    for conversation_id, status, categories in rows:
        entry = summary[conversation_id]
        entry["alerts"] += 1
        if rank.get(status, 0) > rank[entry["alert_status"]]:
            entry["alert_status"] = status
        entry.setdefault("categories", [])
        for category in categories or []:
            if category not in entry["categories"]:
                entry["categories"].append(category)
    return summary


def _conversation_row(row: Conversation, summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "channel": row.channel,
        "lang": row.lang,
        "level": row.level,
        "alert_status": summary["alert_status"],
        "alerts": summary["alerts"],
        "alerted_categories": summary.get("categories", []),
        "messages": row.message_count,
        "created_at": iso(row.created_at),
        "last_activity_at": iso(row.last_activity_at or row.created_at),
        "needs_review": bool(row.needs_review),
        "reviewed_at": iso(row.reviewed_at),
        "reviewed_by": row.reviewed_by,
        "tags": summary.get("tags", []),
    }


@dataclass
class ConversationPage:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
        }


async def list_conversations(
    session: AsyncSession, filters: ConversationFilter, *, everything: bool = False
) -> ConversationPage:
    """One page of conversations, most recently active first (all of them for exports)."""
    conditions = _conditions(filters)
    total = await session.scalar(select(func.count()).select_from(Conversation).where(*conditions))
    query = (
        select(Conversation)
        .where(*conditions)
        .order_by(
            func.coalesce(Conversation.last_activity_at, Conversation.created_at).desc(),
            Conversation.id,
        )
    )
    if not everything:
        query = query.offset((filters.page - 1) * filters.per_page).limit(filters.per_page)
    rows = list(await session.scalars(query))
    summary = await _alert_summary(session, [row.id for row in rows])
    items = [_conversation_row(row, summary[row.id]) for row in rows]
    return ConversationPage(items, total or 0, filters.page, filters.per_page)


CSV_COLUMNS = (
    "id",
    "channel",
    "lang",
    "level",
    "alert_status",
    "alerts",
    "alerted_categories",
    "messages",
    "created_at",
    "last_activity_at",
)


def _csv_cell(value: Any) -> str:
    text = ";".join(value) if isinstance(value, list) else str(value)
    # Spreadsheets run cells that start like a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def conversations_csv(items: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow([_csv_cell(item[column]) for column in CSV_COLUMNS])
    return out.getvalue()


# ---------------------------------------------------------------------- transcripts


def _symptoms(parse: dict[str, Any] | None, protocol: Protocol) -> list[dict[str, Any]]:
    """The turn's symptom mentions; the same words for the same concept, said again in a
    long message, are listed once with how often (`count`)."""
    symptoms: dict[tuple[Any, ...], dict[str, Any]] = {}
    for entity in (parse or {}).get("entities", []):
        if entity.get("entity") != "symptom":
            continue
        concept = protocol.concepts.get(entity.get("value", ""))
        flags = [flag for flag in CONTEXT_FLAGS if entity.get(flag)]
        key = (entity.get("value"), str(entity.get("text", "")).casefold(), tuple(flags))
        if key in symptoms:
            symptoms[key]["count"] += 1
            continue
        symptoms[key] = {
            "concept": entity.get("value"),
            "category": concept.category if concept else None,
            "text": entity.get("text"),
            "flags": flags,
            "count": 1,
        }
    return list(symptoms.values())


def _with_button_titles(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A patient turn that was a button press shows the button's title, as the patient saw
    it (`pressed`); its payload stays in `text`."""
    offered: dict[str, str] = {}
    for message in messages:
        if message["role"] == "bot" and message.get("_offered"):
            offered = message["_offered"]
        elif message["role"] == "patient":
            title = offered.get(message["text"].strip())
            if title:
                message["pressed"] = title
            offered = {}
        message.pop("_offered", None)
    return messages


def _transcript_message(row: Message, protocol: Protocol) -> dict[str, Any]:
    message: dict[str, Any] = {
        "seq": row.seq,
        "role": row.role,
        "text": row.text,
        "created_at": iso(row.created_at),
    }
    if row.role == "patient":
        parse = row.parse or {}
        triage = row.triage or {}
        message.update(
            intent=(parse.get("intent") or {}).get("name"),
            level=row.level,
            categories=triage.get("categories", []),
            conversation_level=triage.get("conversation_level"),
            symptoms=_symptoms(parse, protocol),
            infusion_window=parse.get("infusion_window"),
            unrecognised_complaint=bool(triage.get("unrecognised_complaint")),
            protocol_version=triage.get("protocol_version"),
            needs_review=triage.get("needs_review"),
        )
    elif row.role == "coordinator":
        message["author"] = row.author
    else:
        custom = row.custom or {}
        message.update(response=custom.get("response"), source=custom.get("source"))
        if row.buttons:
            message["buttons"] = [button.get("title") for button in row.buttons]
            message["_offered"] = {
                str(button.get("payload")): str(button.get("title")) for button in row.buttons
            }
    return message


async def transcript(
    session: AsyncSession, conversation_id: str, protocol: Protocol
) -> dict[str, Any]:
    conversation = await _conversation(session, conversation_id)
    messages = await session.scalars(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
    )
    alerts = await session.scalars(
        select(Alert).where(Alert.conversation_id == conversation_id).order_by(Alert.id)
    )
    notes = await session.scalars(
        select(Note).where(Note.conversation_id == conversation_id).order_by(Note.id)
    )
    summary = await _alert_summary(session, [conversation_id])
    return {
        **_conversation_row(conversation, summary[conversation_id]),
        "messages": _with_button_titles([_transcript_message(row, protocol) for row in messages]),
        "alerts": [
            {**alert_dict(row), "history": await _alert_history(session, row.id)} for row in alerts
        ],
        "notes": [
            {
                "id": note.id,
                "author": note.author,
                "text": note.text,
                "alert_id": note.alert_id,
                "created_at": iso(note.created_at),
            }
            for note in notes
        ],
    }


async def _alert_history(session: AsyncSession, alert_id: int) -> list[dict[str, Any]]:
    """Who saw which level when: raised, escalated, acknowledged, resolved..."""
    rows = await session.scalars(
        select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
    )
    return [
        {
            "at": iso(row.at),
            "kind": row.kind,
            "severity": row.severity,
            "level": row.level,
            "categories": list(row.categories or []),
            "actor": row.actor,
        }
        for row in rows
    ]


async def add_note(
    session: AsyncSession, conversation_id: str, author: str, text: str
) -> dict[str, Any]:
    await _conversation(session, conversation_id)
    note = Note(conversation_id=conversation_id, author=author, text=text, created_at=now_utc())
    session.add(note)
    await session.flush()
    return {"id": note.id, "author": author, "text": text, "created_at": iso(note.created_at)}


async def _conversation(session: AsyncSession, conversation_id: str) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation


async def activity(session: AsyncSession, conversation_id: str) -> dict[str, Any] | None:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    return {"messages": conversation.message_count, "level": conversation.level}


# ---------------------------------------------------------------------- review and tags

MAX_TAGS = 10
TAG_CHARS = 40


def clean_tags(raw: list[str]) -> list[str]:
    """Tags as a coordinator means them: trimmed, inner spaces collapsed, no duplicates
    (ignoring case), at most MAX_TAGS of at most TAG_CHARS characters each."""
    tags: dict[str, str] = {}
    for value in raw:
        tag = " ".join(str(value).split())
        if not tag:
            continue
        if len(tag) > TAG_CHARS or not tag.isprintable() or "," in tag:
            raise InvalidChange(f"a tag is at most {TAG_CHARS} printable characters, no commas")
        tags.setdefault(tag.casefold(), tag)
    if len(tags) > MAX_TAGS:
        raise InvalidChange(f"at most {MAX_TAGS} tags on a conversation")
    return sorted(tags.values(), key=str.casefold)


async def set_tags(session: AsyncSession, conversation_id: str, raw: list[str]) -> list[str]:
    await _conversation(session, conversation_id)
    tags = clean_tags(raw)
    await session.execute(
        ConversationTag.__table__.delete().where(ConversationTag.conversation_id == conversation_id)
    )
    session.add_all(ConversationTag(conversation_id=conversation_id, tag=tag) for tag in tags)
    await session.flush()
    return tags


async def used_tags(session: AsyncSession) -> list[dict[str, Any]]:
    """Every tag in use, with how many conversations carry it (most used first)."""
    rows = await session.execute(
        select(ConversationTag.tag, func.count())
        .group_by(ConversationTag.tag)
        .order_by(func.count().desc(), ConversationTag.tag)
    )
    return [{"tag": tag, "conversations": count} for tag, count in rows]


async def mark_reviewed(
    session: AsyncSession, conversation_id: str, actor: str, reviewed: bool
) -> dict[str, Any]:
    """Reviewed (clears needs_review) or back to not reviewed."""
    conversation = await _conversation(session, conversation_id)
    if reviewed:
        conversation.reviewed_at = now_utc()
        conversation.reviewed_by = actor
        conversation.needs_review = False
    else:
        conversation.reviewed_at = None
        conversation.reviewed_by = None
    await session.flush()
    return {
        "id": conversation.id,
        "needs_review": conversation.needs_review,
        "reviewed_at": iso(conversation.reviewed_at),
        "reviewed_by": conversation.reviewed_by,
    }
