"""Who is asking: the dashboard's session cookie (with CSRF on every change) or an API
bearer token. Anonymous requests never reach a coordinator route."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData

from app.coordinator.accounts import SignedIn, session_for, token_for

SESSION_COOKIE = "triage_coordinator"
SIGN_IN_CSRF_COOKIE = "triage_sign_in_csrf"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_FIELD_CHARS = 5000
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class SignInRequired(Exception):
    """A dashboard page was asked for without a valid session: redirect to sign-in."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path

    @property
    def location(self) -> str:
        return "/coordinator/sign-in?next=" + quote(self.next_path, safe="/")


def sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.conversations.sessionmaker


def same_secret(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(given.encode(), expected.encode())


async def _from_cookie(request: Request) -> SignedIn | None:
    key = request.cookies.get(SESSION_COOKIE)
    if not key:
        return None
    async with sessions(request)() as session:
        return await session_for(session, key)


async def dashboard_user(request: Request) -> SignedIn:
    """A signed-in coordinator, or a redirect to the sign-in page."""
    signed_in = await _from_cookie(request)
    if signed_in is None:
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        raise SignInRequired(path if request.method == "GET" else _form_page(request))
    return signed_in


def _form_page(request: Request) -> str:
    """The dashboard page a form was posted from, so that signing in again returns there
    (and its script puts back the text that was typed)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/coordinator/"):
        return "/coordinator"
    # (without "sent": it would tell the page the lost text had been saved)
    query = urlencode([(k, v) for k, v in parse_qsl(referer.query) if k != "sent"])
    return referer.path + (f"?{query}" if query else "")


async def dashboard_form(
    request: Request, signed_in: Annotated[SignedIn, Depends(dashboard_user)]
) -> tuple[SignedIn, FormData]:
    """A posted dashboard form, refused unless it carries this session's CSRF token."""
    form = await request.form(max_files=0, max_fields=20)
    token = form.get("csrf_token")
    if not isinstance(token, str) or not same_secret(token, signed_in.csrf_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or invalid CSRF token")
    for value in form.values():
        if isinstance(value, str) and len(value) > MAX_FORM_FIELD_CHARS:
            raise HTTPException(
                413,
                f"a field is longer than {MAX_FORM_FIELD_CHARS} characters",
            )
    return signed_in, form


async def api_user(request: Request) -> SignedIn:
    """A bearer token (integrations), or the dashboard's session cookie (its own scripts);
    with the cookie, changes also need the CSRF token in the X-CSRF-Token header."""
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            async with sessions(request)() as session:
                signed_in = await token_for(session, token.strip())
            if signed_in is not None:
                return signed_in
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid or expired API token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    signed_in = await _from_cookie(request)
    if signed_in is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "sign in or send an API token (Authorization: Bearer ...)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if request.method not in SAFE_METHODS and not same_secret(
        request.headers.get(CSRF_HEADER), signed_in.csrf_token
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or invalid CSRF token")
    return signed_in


def session_lifetime(request: Request) -> timedelta:
    return timedelta(hours=request.app.state.settings.coordinator_session_hours)


DashboardUser = Annotated[SignedIn, Depends(dashboard_user)]
DashboardForm = Annotated[tuple[SignedIn, FormData], Depends(dashboard_form)]
ApiUser = Annotated[SignedIn, Depends(api_user)]
