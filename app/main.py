"""The FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api import triage
from app.api.schemas import TooLongError
from app.settings import Settings, get_settings
from app.triager import Triager

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


def create_app(settings: Settings | None = None, triager: Triager | None = None) -> FastAPI:
    """Build the service. A ready `triager` can be passed in (tests share one)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "triager", None) is None:
            app.state.triager = Triager()
            log.info("triage model loaded")
        yield

    app = FastAPI(
        title="Natalizumab symptom triage",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.triager = triager
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)

    @app.exception_handler(TooLongError)
    async def too_long(_: Request, error: TooLongError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=413)

    app.include_router(triage.router)
    return app
