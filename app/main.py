"""The FastAPI application."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.alerts.outbox import AlertOutbox
from app.api import triage
from app.api.rate_limits import RateLimits, TooManyRequests
from app.api.schemas import TooLongError, problem_text, problems
from app.channels import action_server, rest, widget
from app.conversations.service import ConversationService
from app.coordinator import api as coordinator_api
from app.coordinator import pages as coordinator_pages
from app.coordinator.auth import SignInRequired
from app.dialogue.runner import DialogueEngine
from app.observability.logs import RequestLog
from app.observability.metrics import Metrics
from app.settings import Settings, get_settings
from app.store.db import Transactions, make_engine, make_sessionmaker, upgrade_async
from app.triager import Triager
from app.web import STATIC_DIR
from app.web import routes as web_routes
from app.web.headers import SecurityHeaders, WidgetCors

log = logging.getLogger("triagebot")


class BodySizeLimit:
    """Answers 413 to any request body larger than the limit, before it is parsed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        too_big = False

        async def limited_receive():
            nonlocal received, too_big
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_big = True
                    return {"type": "http.disconnect"}
            return message

        response_started = False

        async def guarded_send(message):
            nonlocal response_started
            if too_big and not response_started:
                response_started = True
                await self._refuse(send)
                return
            if too_big:
                return
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited_receive, guarded_send)
        if too_big and not response_started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = b'{"detail":"request body too large; the limit is %d bytes"}' % self.max_bytes
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class DropQueryStrings(logging.Filter):
    """Access-log lines keep the path but not the query: a coordinator's text search
    (`?q=...`) is patient health data."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            if isinstance(args[2], str) and "?" in args[2]:
                args[2] = args[2].split("?", 1)[0] + "?…"
                record.args = tuple(args)
        return True


def create_app(settings: Settings | None = None, triager: Triager | None = None) -> FastAPI:
    """Build the service. A ready `triager` can be passed in (tests share one)."""
    settings = settings or get_settings()
    # Our own logs never carry patient text; INFO by default (TRIAGE_LOG_LEVEL).
    logging.getLogger("triagebot").setLevel(settings.log_level.upper())
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, DropQueryStrings) for f in access_log.filters):
        access_log.addFilter(DropQueryStrings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "triager", None) is None:
            app.state.triager = await asyncio.to_thread(Triager)
            log.info("triage model loaded")
        if settings.auto_migrate:
            await upgrade_async(settings.database_url)
        engine = make_engine(settings.database_url, settings.db_pool_size)
        sessionmaker = make_sessionmaker(engine)
        app.state.db_engine = engine
        app.state.dialogue = DialogueEngine(app.state.triager, settings.clinic())
        transactions = Transactions(settings.database_url, engine)
        app.state.conversations = ConversationService(
            sessionmaker, app.state.dialogue, transactions, app.state.metrics
        )
        app.state.outbox = AlertOutbox(
            sessionmaker,
            settings.alert_webhook_url,
            base_seconds=settings.alert_retry_base_seconds,
            max_seconds=settings.alert_retry_max_seconds,
            poll_seconds=settings.alert_poll_seconds,
            timeout_seconds=settings.alert_timeout_seconds,
            concurrency=settings.alert_concurrency,
            metrics=app.state.metrics,
        )
        if not settings.alert_webhook_url:
            log.warning("ALERT_WEBHOOK_URL is not set: alerts are kept for the dashboard only")
        worker = asyncio.create_task(app.state.outbox.run(), name="alert-outbox")
        try:
            yield
        finally:
            app.state.outbox.stop()
            try:
                await asyncio.wait_for(worker, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                worker.cancel()
            await engine.dispose()
            transactions.dispose()

    app = FastAPI(
        title="Natalizumab symptom triage",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.triager = triager
    app.state.settings = settings
    app.state.rate_limits = RateLimits(settings.rate_limit_storage, settings.rate_limits())
    app.state.metrics = Metrics()
    app.add_middleware(WidgetCors, origins=settings.widget_origins)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # outermost: every log line of a request has its id, and its time counts whole
    app.add_middleware(RequestLog, metrics=app.state.metrics)

    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeout)
    @app.exception_handler(ConnectionError)
    async def database_unavailable(request: Request, error: Exception) -> JSONResponse:
        """The database failed or is unreachable: the turn's transaction was rolled back,
        so nothing was half-written; the client may send it again. One line in the log,
        without the statement's values."""
        log.error("database unavailable on %s %s: %s", request.method, request.url.path,
                  type(error).__name__)  # fmt: skip
        return JSONResponse(
            {"detail": "the service's database is not available; nothing was saved, please "
                       "try again in a few seconds"},
            status_code=503,
            headers={"Retry-After": "5"},
        )  # fmt: skip

    @app.exception_handler(TooManyRequests)
    async def too_many(_: Request, error: TooManyRequests) -> JSONResponse:
        return JSONResponse(
            {"detail": str(error)},
            status_code=429,
            headers={"Retry-After": str(error.retry_after)},
        )

    @app.exception_handler(TooLongError)
    async def too_long(_: Request, error: TooLongError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=413)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(_: Request, error: SignInRequired) -> RedirectResponse:
        return RedirectResponse(error.location, status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def dashboard_errors(request: Request, error: StarletteHTTPException) -> Response:
        """Dashboard pages answer errors with a page; everything else with JSON."""
        if error.status_code == 405:
            # Starlette names only the first route of the path; a path served by several
            # (GET and POST of a conversation's messages) allows all their methods.
            routes = [
                inner
                for route in app.routes
                # (FastAPI keeps an included router whole)
                for inner in getattr(getattr(route, "original_router", None), "routes", [route])
            ]
            allowed = {
                method
                for route in routes
                if isinstance(route, Route) and route.matches(request.scope)[0] != Match.NONE
                for method in route.methods or ()
            }
            error.headers = {**(error.headers or {}), "Allow": ", ".join(sorted(allowed))}
        if request.url.path.startswith("/coordinator"):
            return coordinator_pages.error_page(request, error)
        return await http_exception_handler(request, error)

    @app.exception_handler(RequestValidationError)
    async def dashboard_invalid(request: Request, error: RequestValidationError) -> Response:
        if request.url.path.startswith("/coordinator"):
            text = problem_text(error.errors(), skip=1)
            return coordinator_pages.error_page(request, HTTPException(422, text))
        return JSONResponse({"detail": problems(error.errors())}, status_code=422)

    app.include_router(triage.router)
    app.include_router(rest.router)
    app.include_router(widget.router)
    app.include_router(action_server.router)
    app.include_router(coordinator_api.router)
    app.include_router(coordinator_pages.router)
    app.include_router(web_routes.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
