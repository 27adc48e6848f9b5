"""Structured logs: one JSON object per line (structlog), each with the request's id and,
where the request concerns one, the conversation's id. Patient text never appears: our
lines carry ids, route templates, counts and outcomes; uvicorn's access lines (which
carry the query string, where a coordinator's search words are) are replaced by ours.

`configure` is called once by `triagebot serve`; the app itself only adds the
request-id middleware, so tests and embedding programs keep their own logging set-up.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Literal

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability.metrics import Metrics

LogFormat = Literal["json", "console"]

# A caller's (or proxy's) X-Request-ID is kept when it is this short and plain; anything
# else could forge or break log lines, and is replaced by a new id.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
HEADER = b"x-request-id"
# Probes and scrapes every few seconds: logged only when they fail (or at DEBUG).
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})

access_log = structlog.stdlib.get_logger("triagebot.access")

_SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure(level: str = "INFO", fmt: LogFormat = "json") -> None:
    """Every log line of the process, ours, uvicorn's and libraries', through structlog."""
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *([structlog.processors.dict_tracebacks] if fmt == "json" else []),
            renderer,
        ],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    # Libraries speak at WARNING and above (httpx logs every request at INFO).
    root.setLevel(logging.WARNING)
    for name in ("triagebot", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
        logger.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True


structlog.configure(
    processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)


def bind_conversation(conversation_id: str) -> None:
    """Name the conversation this request concerns in the rest of its log lines."""
    structlog.contextvars.bind_contextvars(conversation_id=conversation_id)


class RequestLog:
    """ASGI middleware: gives each request an id (the caller's X-Request-ID when plain,
    else a new one), returns it in X-Request-ID, binds it to every log line written
    while the request runs, and when it ends writes one access line and times it in the
    metrics under its route template ("/api/conversations/{conversation_id}/messages"),
    so ids never become label values."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500  # unless the app answers

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            conversation = scope.get("path_params", {}).get("conversation_id")
            if conversation:
                bind_conversation(str(conversation))
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            seconds = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.requests.labels(scope["method"], route, str(status)).observe(seconds)
            quiet = route in QUIET_ROUTES and status < 400
            (access_log.debug if quiet else access_log.info)(
                "request",
                method=scope["method"],
                route=route,
                status=status,
                ms=round(seconds * 1000, 1),
            )
            structlog.contextvars.clear_contextvars()


def _request_id(scope: Scope) -> str:
    for key, value in scope.get("headers", []):
        if key == HEADER:
            given = value.decode("latin-1")
            if REQUEST_ID.fullmatch(given):
                return given
    return uuid.uuid4().hex
