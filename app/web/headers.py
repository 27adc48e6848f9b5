"""Security headers by area, and CORS only where the embedded widget needs it."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
DEMO_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
WIDGET_PREFIXES = ("/api/conversations", "/widget.js")


def headers_for(path: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
    if path.startswith("/coordinator"):
        headers += [
            (b"content-security-policy", DASHBOARD_CSP.encode()),
            (b"x-frame-options", b"DENY"),
            (b"cache-control", b"no-store"),  # health data stays out of caches
        ]
    elif path == "/":
        headers.append((b"content-security-policy", DEMO_CSP.encode()))
    elif path.startswith("/api/"):
        headers.append((b"cache-control", b"no-store"))
    return headers


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope["path"])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in extra if name not in present
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


class WidgetCors:
    """CORS for the widget API only: clinics embed the widget on their own origins. The
    widget authenticates with a bearer token, never cookies, so no credentials are allowed."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(WIDGET_PREFIXES):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
