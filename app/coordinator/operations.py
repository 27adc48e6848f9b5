"""What the dashboard pages and the JSON API both do: request schemas, and each audited
read or change as one function, so the two front doors cannot drift apart."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import HTTPException, Path, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.conversations.service import ConversationNotFound as NoConversation
from app.coordinator import casework, insight
from app.coordinator.accounts import SignedIn
from app.coordinator.auth import sessions
from app.replay.transcripts import ConversationNotFound, export_fixture

NoteText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=casework.MAX_NOTE_CHARS)
]


# Alert ids are database integers (32-bit on PostgreSQL): larger ones are refused up front.
AlertId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The alert's id.")]


class AlertChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[
        str | None, StringConstraints(strip_whitespace=True, max_length=casework.MAX_NOTE_CHARS)
    ] = None


class TextBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: NoteText


def _calendar_date(value: object) -> object:
    """A date written YYYY-MM-DD, as the schema says (not 0, read as 1970-01-01)."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    raise ValueError("a date like 2026-12-03 (YYYY-MM-DD)")


CalendarDate = Annotated[date, BeforeValidator(_calendar_date)]


def _in_order(since: date, until: date) -> None:
    """A date range that could match something (a backwards one is refused, not empty)."""
    if since > until:
        raise ValueError(
            f"the From date ({since}) is after the To date ({until}): nothing could match"
        )


class ListQuery(BaseModel):
    """Filters of the conversation list (also the CSV export)."""

    model_config = ConfigDict(extra="forbid")
    level: Literal["emergency", "urgent", "routine", "info", "none"] | None = None
    alert_status: Literal["open", "acknowledged", "resolved", "none"] | None = None
    since: CalendarDate | None = None
    until: CalendarDate | None = None
    q: Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=200)] = None
    review: Literal["needs_review", "reviewed", "not_reviewed"] | None = None
    tag: Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=40)] = None
    category: Annotated[str | None, StringConstraints(pattern=r"^[a-z_]{1,40}$")] = None
    intent: Annotated[str | None, StringConstraints(pattern=r"^[a-z_]{1,60}$")] = None
    channel: Literal["widget", "rest"] | None = None
    lang: Annotated[str | None, StringConstraints(pattern=r"^[a-z]{2}$")] = None
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(25, ge=1, le=200)

    @model_validator(mode="after")
    def _dates_in_order(self) -> ListQuery:
        if self.since and self.until:
            _in_order(self.since, self.until)
        return self

    def to_filter(self) -> casework.ConversationFilter:
        return casework.ConversationFilter(**self.model_dump())


def not_found(error: Exception) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(error).strip("'\""))


def protocol(request: Request):
    return request.app.state.triager.protocol


async def change_alert(
    request: Request, user: SignedIn, alert_id: int, action: str, body: AlertChange | None
) -> dict[str, Any]:
    """Acknowledge or resolve, serialised with the patient's turns in that conversation;
    resolving ends the patient's emergency or urgent state and tells them so."""
    note = body.note if body else None
    conversations = request.app.state.conversations
    async with sessions(request)() as session:
        conversation_id = await casework.alert_conversation(session, alert_id)
    if conversation_id is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"alert {alert_id} not found")

    async def work(session: AsyncSession, conversation) -> dict[str, Any] | str:
        try:
            alert = await casework.change_alert(session, alert_id, action, user.username, note)
        except casework.InvalidChange as error:
            # Someone else got there first: the note is kept on the conversation all the
            # same (a coordinator's words are never dropped), then 409 says who and when.
            if not note:
                return f"{error}."
            await casework.add_note(session, conversation.id, user.username, note)
            await casework.audit(
                session, user.username, "note", user.via, conversation_id=conversation.id
            )
            return f"{error}. Your note was saved on the conversation."
        if action == "resolve":
            conversations.alert_resolved(session, conversation)
        await casework.audit(
            session,
            user.username,
            action,
            user.via,
            conversation_id=alert["conversation_id"],
            alert_id=alert_id,
            detail="with note" if note else None,
        )
        return alert

    outcome = await conversations.write(conversation_id, work)
    if isinstance(outcome, str):
        raise HTTPException(status.HTTP_409_CONFLICT, outcome)
    return outcome


async def export_list(
    request: Request, user: SignedIn, filters: casework.ConversationFilter
) -> Response:
    async with sessions(request)() as session, session.begin():
        page = await casework.list_conversations(session, filters, everything=True)
        await casework.audit(
            session,
            user.username,
            "export_list",
            user.via,
            detail=f"{page.total} conversation{'' if page.total == 1 else 's'}; "
            f"filters: {filters.describe() or 'none'}",
        )
    return Response(
        casework.conversations_csv(page.items),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="conversations.csv"'},
    )


async def read_transcript(
    request: Request, user: SignedIn, conversation_id: str, action: str
) -> dict[str, Any]:
    async with sessions(request)() as session, session.begin():
        try:
            found = await casework.transcript(session, conversation_id, protocol(request))
        except casework.NotFound as error:
            raise not_found(error) from None
        await casework.audit(
            session, user.username, action, user.via, conversation_id=conversation_id
        )
    return found


def transcript_download(found: dict[str, Any]) -> JSONResponse:
    return JSONResponse(
        found,
        headers={"Content-Disposition": f'attachment; filename="conversation-{found["id"]}.json"'},
    )


async def fixture_download(request: Request, user: SignedIn, conversation_id: str) -> Response:
    async with sessions(request)() as session, session.begin():
        try:
            text = await export_fixture(session, conversation_id)
        except ConversationNotFound as error:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no fixture: {error}") from None
        await casework.audit(
            session, user.username, "save_fixture", user.via, conversation_id=conversation_id
        )
    return Response(
        text,
        media_type="application/yaml; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="conversation-{conversation_id[:8]}.yml"'
        },
    )


async def save_note(
    request: Request, user: SignedIn, conversation_id: str, text: str
) -> dict[str, Any]:
    async with sessions(request)() as session, session.begin():
        try:
            note = await casework.add_note(session, conversation_id, user.username, text)
        except casework.NotFound as error:
            raise not_found(error) from None
        await casework.audit(
            session, user.username, "note", user.via, conversation_id=conversation_id
        )
    return note


async def send_reply(
    request: Request, user: SignedIn, conversation_id: str, text: str
) -> dict[str, Any]:
    async def audit_reply(session: AsyncSession, message: dict[str, Any]) -> None:
        await casework.audit(
            session,
            user.username,
            "reply",
            user.via,
            conversation_id=conversation_id,
            detail=f"message {message['seq']}",
        )

    try:
        return await request.app.state.conversations.coordinator_reply(
            conversation_id, user.username, text, also=audit_reply
        )
    except NoConversation:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"conversation {conversation_id} not found"
        ) from None


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reviewed: bool = True


class TagsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tags: list[Annotated[str, StringConstraints(max_length=200)]] = Field(max_length=50)

    @field_validator("tags")
    @classmethod
    def _clean(cls, tags: list[str]) -> list[str]:
        return casework.clean_tags(tags)  # its InvalidChange is a ValueError: a 422 entry


async def review_conversation(
    request: Request, user: SignedIn, conversation_id: str, reviewed: bool
) -> dict[str, Any]:
    """Mark a conversation reviewed (or not), serialised with the patient's turns."""

    async def work(session: AsyncSession, conversation) -> dict[str, Any]:
        result = await casework.mark_reviewed(session, conversation.id, user.username, reviewed)
        await casework.audit(
            session,
            user.username,
            "review" if reviewed else "unreview",
            user.via,
            conversation_id=conversation.id,
        )
        return result

    try:
        return await request.app.state.conversations.write(conversation_id, work)
    except NoConversation as error:
        raise not_found(error) from None


async def tag_conversation(
    request: Request, user: SignedIn, conversation_id: str, tags: list[str]
) -> list[str]:
    async with sessions(request)() as session, session.begin():
        try:
            saved = await casework.set_tags(session, conversation_id, tags)
        except casework.NotFound as error:
            raise not_found(error) from None
        except casework.InvalidChange as error:  # the dashboard's form (the API's body is checked)
            raise HTTPException(422, str(error)) from None
        await casework.audit(
            session,
            user.username,
            "tag",
            user.via,
            conversation_id=conversation_id,
            detail=", ".join(saved) or "no tags",
        )
    return saved


class InsightQuery(BaseModel):
    """The insight page's date range (UTC days): the last 30 days unless given."""

    model_config = ConfigDict(extra="forbid")
    since: CalendarDate | None = None
    until: CalendarDate | None = None

    @model_validator(mode="after")
    def _a_real_range(self) -> InsightQuery:
        period = self.to_range(datetime.now(UTC).date())
        _in_order(period.since, period.until)
        if (period.until - period.since).days >= insight.MAX_DAYS:
            raise ValueError(f"at most {insight.MAX_DAYS} days at a time")
        return self

    def to_range(self, today: date) -> insight.Range:
        until = self.until or today
        return insight.Range(self.since or until - timedelta(days=29), until)


async def read_insight(request: Request, user: SignedIn, period: insight.Range) -> dict[str, Any]:
    async with sessions(request)() as session, session.begin():
        data = await insight.insight(session, period)
        await casework.audit(
            session,
            user.username,
            "view_insight",
            user.via,
            detail=f"{period.since}..{period.until}",
        )
    return data


def insight_download(data: dict[str, Any]) -> Response:
    name = f"insight-{data['since']}-{data['until']}.csv"
    return Response(
        insight.insight_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
