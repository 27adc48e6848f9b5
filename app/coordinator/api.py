"""The coordinator features as JSON under /api/coordinator (bearer token or dashboard
session). Every read of patient messages and every change is written to the audit log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from app.api.schemas import errors
from app.conversations.service import now_utc
from app.coordinator import casework
from app.coordinator.auth import ApiUser, sessions
from app.coordinator.operations import (
    AlertChange,
    AlertId,
    InsightQuery,
    ListQuery,
    ReviewBody,
    TagsBody,
    TextBody,
    change_alert,
    export_list,
    fixture_download,
    insight_download,
    read_insight,
    read_transcript,
    review_conversation,
    save_note,
    send_reply,
    tag_conversation,
    transcript_download,
)
from app.coordinator.protocol_view import protocol_view

router = APIRouter(
    prefix="/api/coordinator", tags=["coordinator"], responses=errors(400, 401, 403, 404, 413)
)


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


@router.post("/alerts/{alert_id}/acknowledge", responses=errors(409))
async def acknowledge(
    request: Request, user: ApiUser, alert_id: AlertId, body: AlertChange | None = None
) -> dict[str, Any]:
    return await change_alert(request, user, alert_id, "acknowledge", body)


@router.post("/alerts/{alert_id}/resolve", responses=errors(409))
async def resolve(
    request: Request, user: ApiUser, alert_id: AlertId, body: AlertChange | None = None
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


@router.get(
    "/conversations.csv",
    responses={200: {"description": "The list as CSV.", "content": {"text/csv": {}}}},
)
async def conversations_csv(
    request: Request, user: ApiUser, query: Annotated[ListQuery, Query()]
) -> Response:
    return await export_list(request, user, query.to_filter())


@router.get("/conversations/{conversation_id}")
async def transcript(request: Request, user: ApiUser, conversation_id: str) -> dict[str, Any]:
    return await read_transcript(request, user, conversation_id, "view_transcript")


@router.get("/conversations/{conversation_id}/export")
async def export_transcript(request: Request, user: ApiUser, conversation_id: str) -> Response:
    found = await read_transcript(request, user, conversation_id, "export_transcript")
    return transcript_download(found)


@router.get("/conversations/{conversation_id}/fixture")
async def fixture(request: Request, user: ApiUser, conversation_id: str) -> Response:
    """The conversation as a QA replay fixture (YAML), today's decisions as expectations."""
    return await fixture_download(request, user, conversation_id)


@router.post("/conversations/{conversation_id}/notes", status_code=status.HTTP_201_CREATED)
async def add_note(
    request: Request, user: ApiUser, conversation_id: str, body: TextBody
) -> dict[str, Any]:
    return await save_note(request, user, conversation_id, body.text)


@router.post("/conversations/{conversation_id}/reply", status_code=status.HTTP_201_CREATED)
async def reply(
    request: Request, user: ApiUser, conversation_id: str, body: TextBody
) -> dict[str, Any]:
    """A coordinator's message to the patient; their widget shows it."""
    return await send_reply(request, user, conversation_id, body.text)


@router.post("/conversations/{conversation_id}/review")
async def review(
    request: Request, user: ApiUser, conversation_id: str, body: ReviewBody | None = None
) -> dict[str, Any]:
    """Mark the conversation reviewed (`{"reviewed": false}`: not reviewed again); clears
    `needs_review`, which a turn the safety net raised or the NLU did not understand sets."""
    reviewed = body.reviewed if body else True
    return await review_conversation(request, user, conversation_id, reviewed)


@router.put("/conversations/{conversation_id}/tags")
async def tags(
    request: Request, user: ApiUser, conversation_id: str, body: TagsBody
) -> dict[str, Any]:
    """Replace the conversation's tags (free text, at most 10 of 40 characters)."""
    return {"tags": await tag_conversation(request, user, conversation_id, body.tags)}


@router.get("/tags")
async def used_tags(request: Request, user: ApiUser) -> dict[str, Any]:
    """Every tag in use, most used first (for choosing an existing one)."""
    async with sessions(request)() as session:
        return {"tags": await casework.used_tags(session)}


@router.get("/insight")
async def insight(
    request: Request, user: ApiUser, query: Annotated[InsightQuery, Query()]
) -> dict[str, Any]:
    """Per day: alerts by severity, patient turns by level, turns not understood (and
    their share); per week: alerts and time to acknowledge and resolve (median, 90th
    percentile, minutes); the categories alerted. Default range: the last 30 days (UTC)."""
    return await read_insight(request, user, query.to_range(now_utc().date()))


@router.get(
    "/insight.csv",
    response_class=Response,
    responses={200: {"description": "The figures as CSV.", "content": {"text/csv": {}}}},
)
async def insight_csv(
    request: Request, user: ApiUser, query: Annotated[InsightQuery, Query()]
) -> Response:
    return insight_download(await read_insight(request, user, query.to_range(now_utc().date())))


@router.get("/protocol")
async def protocol(request: Request, user: ApiUser) -> dict[str, Any]:
    """The protocol in force: levels, categories with concepts and example phrases,
    combination rules, guidance and info answers per language with sources, and the
    version every patient turn records (`protocol_version` in a transcript)."""
    return protocol_view(request.app.state.triager)


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
