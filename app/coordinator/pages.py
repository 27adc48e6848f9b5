"""The coordinators' dashboard: server-rendered pages under /coordinator.

Every form carries the session's CSRF token; reads of patient messages and every change
are audited exactly as through the JSON API (the same functions do the work).
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.schemas import problem_text
from app.conversations.service import now_utc
from app.coordinator import accounts, casework
from app.coordinator.auth import (
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    DashboardForm,
    DashboardUser,
    same_secret,
    session_lifetime,
    sessions,
)
from app.coordinator.charts import insight_charts
from app.coordinator.operations import (
    AlertChange,
    AlertId,
    InsightQuery,
    ListQuery,
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
from app.triage.protocol import LEVELS
from app.web import TEMPLATES_DIR

router = APIRouter(prefix="/coordinator", include_in_schema=False)
Q = TypeVar("Q", bound=BaseModel)
templates = Jinja2Templates(directory=TEMPLATES_DIR)


def waiting(created_at: str, now: datetime) -> str:
    """How long an alert has waited, as a coordinator reads it at a glance."""
    minutes = int((now - datetime.fromisoformat(created_at)).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


templates.env.globals["waiting"] = waiting
# A browser the coordinator signed in from before (accounts.trust_device).
DEVICE_COOKIE = "triage_device"


def page(request: Request, name: str, user: Any = None, status_code: int = 200, **context):
    return templates.TemplateResponse(
        request, name, {"user": user, **context}, status_code=status_code
    )


def error_page(request: Request, error: StarletteHTTPException) -> Response:
    titles = {
        400: "Not understood",
        403: "Not allowed",
        404: "Not found",
        409: "Already done",
        413: "Too long",
    }
    detail = error.detail if isinstance(error.detail, str) else "The request was not valid."
    return page(
        request,
        "coordinator/error.html",
        status_code=error.status_code,
        title=titles.get(error.status_code, "Something is wrong with that request"),
        detail=detail,
    )


def safe_next(target: str | None) -> str:
    """Only ever redirect within the dashboard (no open redirects)."""
    if target and target.startswith("/coordinator") and not target.startswith("//"):
        return target
    return "/coordinator"


def back(target: str | None, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(safe_next(target) + anchor, status_code=status.HTTP_303_SEE_OTHER)


# ---------------------------------------------------------------------- sign-in


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    return _sign_in_form(request, next)


def _sign_in_form(
    request: Request,
    next_path: str | None,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    csrf = secrets.token_urlsafe(32)
    response = page(
        request,
        "coordinator/sign_in.html",
        status_code=status_code,
        csrf_token=csrf,
        next=safe_next(next_path),
        error=error,
    )
    response.set_cookie(
        SIGN_IN_CSRF_COOKIE,
        csrf,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
        path="/coordinator",
        max_age=3600,
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    settings = request.app.state.settings
    form = await request.form(max_files=0, max_fields=10)
    username = str(form.get("username") or "").strip().lower()[:64]
    password = str(form.get("password") or "")[:1024]
    next_path = str(form.get("next") or "")
    if not same_secret(str(form.get("csrf_token") or ""), request.cookies.get(SIGN_IN_CSRF_COOKIE)):
        return _sign_in_form(
            request,
            next_path,
            "Your sign-in form expired. Please try again.",
            status.HTTP_403_FORBIDDEN,
        )
    # The connecting address (a proxy's X-Forwarded-For only when TRIAGE_TRUSTED_PROXIES
    # names that proxy: uvicorn's forwarded_allow_ips).
    client = request.client.host if request.client else "unknown"
    window = timedelta(minutes=settings.sign_in_window_minutes)
    device = request.cookies.get(DEVICE_COOKIE, "")
    maker = sessions(request)
    async with maker() as session, session.begin():
        trusted = await accounts.device_trusted(session, device, username)
        source = accounts.device_source(device) if trusted else client
        attempt = await accounts.record_attempt(session, username, source)
    async with maker() as session, session.begin():
        until = await accounts.throttled_until(
            session,
            attempt=attempt,
            username=username,
            source=source,
            client=client,
            trusted=trusted,
            window=window,
            limit=settings.sign_in_max_failures,
        )
        if until is not None:
            await accounts.forget_attempt(session, attempt)
            await casework.audit(session, username or "?", "sign_in_throttled", "dashboard")
            request.app.state.metrics.sign_ins.labels("throttled").inc()
    if until is not None:
        wait = max(1.0, (until - now_utc()).total_seconds())
        minutes = max(1, math.ceil(wait / 60))
        return _sign_in_form(
            request,
            next_path,
            f"Too many failed sign-ins. Try again in {minutes} minute"
            f"{'s' if minutes != 1 else ''}.",
            status.HTTP_429_TOO_MANY_REQUESTS,
            {"Retry-After": str(int(wait))},
        )
    new_device = None
    async with maker() as session, session.begin():
        coordinator = await accounts.verify_password(session, username, password)
        if coordinator is None:  # the attempt stays: it is a failure
            await casework.audit(session, username or "?", "sign_in_failed", "dashboard")
            request.app.state.metrics.sign_ins.labels("wrong_password").inc()
        else:  # this attempt's row goes with the forgiven failures of its source
            await accounts.clear_failures(session, username, source)
            key, _ = await accounts.open_session(session, coordinator, session_lifetime(request))
            if not trusted:
                new_device = await accounts.trust_device(session, coordinator)
            await casework.audit(session, coordinator.username, "sign_in", "dashboard")
    if coordinator is None:  # committed above, so the failure counts even though we answer 401
        return _sign_in_form(
            request, next_path, "Wrong username or password.", status.HTTP_401_UNAUTHORIZED
        )
    response = back(next_path)
    response.set_cookie(
        SESSION_COOKIE,
        key,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/",
        max_age=int(session_lifetime(request).total_seconds()),
    )
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/coordinator")
    if new_device:
        response.set_cookie(
            DEVICE_COOKIE,
            new_device,
            httponly=True,
            samesite="strict",
            secure=settings.secure_cookies,
            path="/coordinator/sign-in",
            max_age=accounts.DEVICE_DAYS * 24 * 3600,
        )
    return response


@router.post("/sign-out")
async def sign_out(request: Request, submitted: DashboardForm) -> Response:
    user, _ = submitted
    async with sessions(request)() as session, session.begin():
        await accounts.close_session(session, request.cookies.get(SESSION_COOKIE, ""))
        await casework.audit(session, user.username, "sign_out", "dashboard")
    response = RedirectResponse("/coordinator/sign-in", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---------------------------------------------------------------------- alert queue


@router.get("", response_class=HTMLResponse)
async def queue(request: Request, user: DashboardUser) -> Response:
    async with sessions(request)() as session, session.begin():
        alerts = await casework.alert_queue(session)
        # The page's 3-second refresh of the same rows is not logged again.
        await casework.audit(session, user.username, "view_queue", "dashboard")
    return page(request, "coordinator/queue.html", user, alerts=alerts, now=now_utc())


@router.get("/queue/rows", response_class=HTMLResponse)
async def queue_rows(request: Request, user: DashboardUser) -> Response:
    """The queue's table body, for the page's live refresh."""
    async with sessions(request)() as session:
        alerts = await casework.alert_queue(session)
    return page(request, "coordinator/_queue_rows.html", user, alerts=alerts, now=now_utc())


async def _alert_form(request: Request, submitted: DashboardForm, alert_id: int, action: str):
    user, form = submitted
    note = str(form.get("note") or "").strip() or None
    done = sent(safe_next(str(form.get("next") or "")), f"alert-{alert_id}")
    try:
        await change_alert(request, user, alert_id, action, AlertChange(note=note))
    except HTTPException as error:
        if error.status_code != status.HTTP_409_CONFLICT:
            raise
        # Someone else acted first: say who and when; the note was kept (see change_alert).
        return page(
            request,
            "coordinator/error.html",
            user,
            status_code=409,
            title="Already done",
            detail=error.detail,
            back_link=done,
        )
    return back(done)


def sent(path: str, form: str) -> str:
    """`path` telling its page that `form`'s text was saved: the page's script then
    forgets the draft it kept in case the text was lost (e.g. an expired session)."""
    target, _, anchor = path.partition("#")
    joiner = "&" if "?" in target else "?"
    return f"{target}{joiner}{urlencode({'sent': form})}" + (f"#{anchor}" if anchor else "")


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(request: Request, submitted: DashboardForm, alert_id: AlertId) -> Response:
    return await _alert_form(request, submitted, alert_id, "acknowledge")


@router.post("/alerts/{alert_id}/resolve")
async def resolve(request: Request, submitted: DashboardForm, alert_id: AlertId) -> Response:
    return await _alert_form(request, submitted, alert_id, "resolve")


# ---------------------------------------------------------------------- conversations


def _query(request: Request, model: type[Q]) -> Q:
    """The page's query parameters as `model` (empty fields left out); 422 naming each
    problem, shown as a page."""
    raw = {key: value for key, value in request.query_params.items() if value != ""}
    try:
        return model(**raw)
    except ValidationError as error:
        raise HTTPException(422, problem_text(error.errors())) from None


@router.get("/conversations", response_class=HTMLResponse)
async def conversations(request: Request, user: DashboardUser) -> Response:
    filters = _query(request, ListQuery).to_filter()
    async with sessions(request)() as session, session.begin():
        found = await casework.list_conversations(session, filters)
        await casework.audit_list(session, user.username, "dashboard", filters)
    query = filters.as_query()
    return page(
        request,
        "coordinator/conversations.html",
        user,
        found=found,
        filters=filters,
        levels=LEVELS,
        used_tags=await _used_tags(request),
        categories=sorted(request.app.state.triager.protocol.categories),
        page_link=lambda n: "/coordinator/conversations?" + urlencode({**query, "page": n}),
        csv_link="/coordinator/conversations.csv?" + urlencode(query),
    )


async def _used_tags(request: Request) -> list[dict[str, Any]]:
    async with sessions(request)() as session:
        return await casework.used_tags(session)


@router.get("/conversations.csv")
async def conversations_csv(request: Request, user: DashboardUser) -> Response:
    return await export_list(request, user, _query(request, ListQuery).to_filter())


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
async def transcript(request: Request, user: DashboardUser, conversation_id: str) -> Response:
    found = await read_transcript(request, user, conversation_id, "view_transcript")
    return page(
        request,
        "coordinator/transcript.html",
        user,
        conversation=found,
        used_tags=await _used_tags(request),
    )


@router.get("/conversations/{conversation_id}/activity")
async def activity(request: Request, user: DashboardUser, conversation_id: str) -> dict:
    """How far the conversation has got (no message text), for the open transcript page
    to offer a reload when the patient writes again."""
    async with sessions(request)() as session:
        found = await casework.activity(session, conversation_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "conversation not found")
    return found


@router.get("/conversations/{conversation_id}/export.json")
async def export_transcript(request: Request, user: DashboardUser, conversation_id: str):
    found = await read_transcript(request, user, conversation_id, "export_transcript")
    return transcript_download(found)


@router.get("/conversations/{conversation_id}/fixture.yml")
async def fixture(request: Request, user: DashboardUser, conversation_id: str) -> Response:
    return await fixture_download(request, user, conversation_id)


def _text(form: Any) -> str:
    try:
        return TextBody(text=str(form.get("text") or "")).text
    except ValidationError:
        raise HTTPException(422, "write something before sending") from None


@router.post("/conversations/{conversation_id}/notes")
async def add_note(request: Request, submitted: DashboardForm, conversation_id: str):
    user, form = submitted
    await save_note(request, user, conversation_id, _text(form))
    return back(sent(f"/coordinator/conversations/{conversation_id}", "note"), "#notes")


@router.post("/conversations/{conversation_id}/reply")
async def reply(request: Request, submitted: DashboardForm, conversation_id: str):
    user, form = submitted
    await send_reply(request, user, conversation_id, _text(form))
    return back(sent(f"/coordinator/conversations/{conversation_id}", "reply"), "#reply")


@router.post("/conversations/{conversation_id}/review")
async def review(request: Request, submitted: DashboardForm, conversation_id: str):
    user, form = submitted
    reviewed = str(form.get("reviewed") or "1") != "0"
    await review_conversation(request, user, conversation_id, reviewed)
    return back(f"/coordinator/conversations/{conversation_id}", "#review")


@router.post("/conversations/{conversation_id}/tags")
async def tags(request: Request, submitted: DashboardForm, conversation_id: str):
    user, form = submitted
    given = str(form.get("tags") or "").split(",")
    await tag_conversation(request, user, conversation_id, given)
    return back(sent(f"/coordinator/conversations/{conversation_id}", "tags"), "#review")


# ---------------------------------------------------------------------- insight


@router.get("/insight", response_class=HTMLResponse)
async def insight_page(request: Request, user: DashboardUser) -> Response:
    period = _query(request, InsightQuery).to_range(now_utc().date())
    data = await read_insight(request, user, period)
    return page(
        request,
        "coordinator/insight.html",
        user,
        active="insight",
        data=data,
        charts=insight_charts(data),
        csv_link="/coordinator/insight.csv?"
        + urlencode({"since": data["since"], "until": data["until"]}),
    )


@router.get("/insight.csv")
async def insight_csv(request: Request, user: DashboardUser) -> Response:
    period = _query(request, InsightQuery).to_range(now_utc().date())
    return insight_download(await read_insight(request, user, period))


# ---------------------------------------------------------------------- protocol


@router.get("/protocol", response_class=HTMLResponse)
async def protocol_page(request: Request, user: DashboardUser) -> Response:
    """The protocol as a clinician reads it, with the version each turn records."""
    view = protocol_view(request.app.state.triager)
    return page(request, "coordinator/protocol.html", user, protocol=view, active="protocol")


# ---------------------------------------------------------------------- accounts (admins)


def _admin(user: Any) -> None:
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin manages the accounts")


async def _accounts_page(
    request: Request, user: Any, error: str | None = None, status_code: int = 200
) -> Response:
    async with sessions(request)() as session:
        people = await accounts.list_coordinators(session)
    return page(
        request,
        "coordinator/accounts.html",
        user,
        status_code=status_code,
        active="accounts",
        people=people,
        roles=accounts.ROLES,
        error=error,
    )


@router.get("/accounts", response_class=HTMLResponse)
async def accounts_page(request: Request, user: DashboardUser) -> Response:
    _admin(user)
    return await _accounts_page(request, user)


async def _account_action(request: Request, user: Any, action: str, username: str, work):
    """Run an account change and audit it; an AccountError is shown on the page (422)."""
    _admin(user)
    async with sessions(request)() as session:
        try:
            async with session.begin():
                await work(session)
                await casework.audit(session, user.username, action, "dashboard", detail=username)
        except accounts.AccountError as error:
            return await _accounts_page(request, user, str(error), 422)
    return back("/coordinator/accounts")


@router.post("/accounts")
async def add_account(request: Request, submitted: DashboardForm) -> Response:
    user, form = submitted
    username = str(form.get("username") or "").strip().lower()
    password, role = str(form.get("password") or ""), str(form.get("role") or "coordinator")
    return await _account_action(
        request,
        user,
        "account_add",
        username,
        lambda session: accounts.add_coordinator(session, username, password, role),
    )


@router.post("/accounts/{username}/active")
async def account_active(request: Request, submitted: DashboardForm, username: str) -> Response:
    user, form = submitted
    active = str(form.get("active") or "") == "1"
    if not active and username == user.username:
        return await _accounts_page(request, user, "you cannot disable your own account", 422)
    return await _account_action(
        request,
        user,
        "account_enable" if active else "account_disable",
        username,
        lambda session: accounts.set_active(session, username, active),
    )


@router.post("/accounts/{username}/role")
async def account_role(request: Request, submitted: DashboardForm, username: str) -> Response:
    user, form = submitted
    role = str(form.get("role") or "")
    return await _account_action(
        request,
        user,
        f"account_role_{role}" if role in accounts.ROLES else "account_role",
        username,
        lambda session: accounts.set_role(session, username, role),
    )


@router.post("/accounts/{username}/password")
async def account_password(request: Request, submitted: DashboardForm, username: str) -> Response:
    """An admin resets a coordinator's password: their browsers are signed out and their
    API tokens revoked (they are given the new password in person or by phone)."""
    user, form = submitted
    password = str(form.get("password") or "")
    return await _account_action(
        request,
        user,
        "account_reset_password",
        username,
        lambda session: accounts.set_password(session, username, password),
    )


# ---------------------------------------------------------------------- audit log


@router.get("/audit", response_class=HTMLResponse)
async def audit_log(
    request: Request,
    user: DashboardUser,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    actor: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    per_page = 50
    async with sessions(request)() as session, session.begin():
        entries, total = await casework.audit_entries(session, page_number, per_page, actor or None)
        await casework.audit(session, user.username, "view_audit", "dashboard")
    pages = max(1, -(-total // per_page))
    return page(
        request,
        "coordinator/audit.html",
        user,
        entries=entries,
        total=total,
        page_number=page_number,
        pages=pages,
        actor=actor or "",
    )
