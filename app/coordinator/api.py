"""The coordinator features as JSON under /api/coordinator (bearer token or dashboard
session). Every read of patient messages and every change is written to the audit log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from app.conversations.service import ConversationNotFound as NoConversation
from app.coordinator import casework
from app.coordinator.auth import ApiUser, sessions
from app.replay.transcripts import ConversationNotFound, export_fixture

router = APIRouter(prefix="/api/coordinator", tags=["coordinator"])

NoteText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=casework.MAX_NOTE_CHARS)
]


class AlertChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[
        str | None, StringConstraints(strip_whitespace=True, max_length=casework.MAX_NOTE_CHARS)
    ] = None


class TextBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: NoteText


class ListQuery(BaseModel):
    """Filters of the conversation list (also the CSV export)."""

    model_config = ConfigDict(extra="forbid")
    level: Literal["emergency", "urgent", "routine", "info", "none"] | None = None
    alert_status: Literal["open", "acknowledged", "resolved", "none"] | None = None
    since: date | None = None
    until: date | None = None
    q: Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=200)] = None
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(25, ge=1, le=200)

    def to_filter(self) -> casework.ConversationFilter:
        return casework.ConversationFilter(**self.model_dump())


def not_found(error: Exception) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(error).strip("'\""))


def protocol(request: Request):
    return request.app.state.triager.protocol


@router.get("/me")
async def me(user: ApiUser) -> dict[str, Any]:
    return {"username": user.username, "via": user.via}


@router.get("/alerts")
async def alerts(
    request: Request,
    user: ApiUser,
    status_: Annotated[
        Literal["active", "open", "acknowledged", "resolved", "all"], Query(alias="status")
    ] = "active",
) -> dict[str, Any]:
    """The alert queue: emergencies first, then oldest first. `active` = open + acknowledged."""
    statuses = {
        "active": ("open", "acknowledged"),
        "all": ("open", "acknowledged", "resolved"),
    }.get(status_, (status_,))
    async with sessions(request)() as session, session.begin():
        found = await casework.alert_queue(session, statuses)
        await casework.audit(session, user.username, "view_queue", user.via, detail=status_)
    return {"alerts": found}


async def change_alert(
    request: Request, user: ApiUser, alert_id: int, action: str, body: AlertChange | None
) -> dict[str, Any]:
    note = body.note if body else None
    async with sessions(request)() as session, session.begin():
        try:
            alert = await casework.change_alert(session, alert_id, action, user.username, note)
        except casework.NotFound as error:
            raise not_found(error) from None
        except casework.InvalidChange as error:
            raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
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


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(
    request: Request, user: ApiUser, alert_id: int, body: AlertChange | None = None
) -> dict[str, Any]:
    return await change_alert(request, user, alert_id, "acknowledge", body)


@router.post("/alerts/{alert_id}/resolve")
async def resolve(
    request: Request, user: ApiUser, alert_id: int, body: AlertChange | None = None
) -> dict[str, Any]:
    return await change_alert(request, user, alert_id, "resolve", body)


@router.get("/conversations")
async def conversations(
    request: Request, user: ApiUser, query: Annotated[ListQuery, Query()]
) -> dict[str, Any]:
    filters = query.to_filter()
    async with sessions(request)() as session, session.begin():
        page = await casework.list_conversations(session, filters)
        await casework.audit_list(session, user.username, user.via, filters)
    return page.to_dict()


@router.get("/conversations.csv")
async def conversations_csv(
    request: Request, user: ApiUser, query: Annotated[ListQuery, Query()]
) -> Response:
    return await export_list(request, user, query.to_filter())


async def export_list(
    request: Request, user: Any, filters: casework.ConversationFilter
) -> Response:
    async with sessions(request)() as session, session.begin():
        page = await casework.list_conversations(session, filters, everything=True)
        await casework.audit(
            session,
            user.username,
            "export_list",
            user.via,
            detail=f"{page.total} conversations; filters {filters.as_query() or 'none'}",
        )
    return Response(
        casework.conversations_csv(page.items),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="conversations.csv"'},
    )


async def read_transcript(
    request: Request, user: Any, conversation_id: str, action: str
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


@router.get("/conversations/{conversation_id}")
async def transcript(request: Request, user: ApiUser, conversation_id: str) -> dict[str, Any]:
    return await read_transcript(request, user, conversation_id, "view_transcript")


@router.get("/conversations/{conversation_id}/export")
async def export_transcript(request: Request, user: ApiUser, conversation_id: str) -> Response:
    found = await read_transcript(request, user, conversation_id, "export_transcript")
    return transcript_download(found)


def transcript_download(found: dict[str, Any]) -> JSONResponse:
    return JSONResponse(
        found,
        headers={"Content-Disposition": f'attachment; filename="conversation-{found["id"]}.json"'},
    )


async def fixture_download(request: Request, user: Any, conversation_id: str) -> Response:
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


@router.get("/conversations/{conversation_id}/fixture")
async def fixture(request: Request, user: ApiUser, conversation_id: str) -> Response:
    """The conversation as a QA replay fixture (YAML), today's decisions as expectations."""
    return await fixture_download(request, user, conversation_id)


async def save_note(request: Request, user: Any, conversation_id: str, text: str) -> dict[str, Any]:
    async with sessions(request)() as session, session.begin():
        try:
            note = await casework.add_note(session, conversation_id, user.username, text)
        except casework.NotFound as error:
            raise not_found(error) from None
        await casework.audit(
            session, user.username, "note", user.via, conversation_id=conversation_id
        )
    return note


@router.post("/conversations/{conversation_id}/notes", status_code=status.HTTP_201_CREATED)
async def add_note(
    request: Request, user: ApiUser, conversation_id: str, body: TextBody
) -> dict[str, Any]:
    return await save_note(request, user, conversation_id, body.text)


async def send_reply(
    request: Request, user: Any, conversation_id: str, text: str
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


@router.post("/conversations/{conversation_id}/reply", status_code=status.HTTP_201_CREATED)
async def reply(
    request: Request, user: ApiUser, conversation_id: str, body: TextBody
) -> dict[str, Any]:
    """A coordinator's message to the patient; their widget shows it."""
    return await send_reply(request, user, conversation_id, body.text)


@router.get("/audit")
async def audit_log(
    request: Request,
    user: ApiUser,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
    actor: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    async with sessions(request)() as session, session.begin():
        entries, total = await casework.audit_entries(session, page, per_page, actor)
        await casework.audit(session, user.username, "view_audit", user.via)
    return {"entries": entries, "total": total, "page": page, "per_page": per_page}
