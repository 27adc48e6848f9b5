"""Routes of the triage core: Rasa-style parse, triage, health."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.deps import TriagerDep
from app.api.rate_limits import RATE_LIMITED, limited
from app.api.schemas import TextRequest, errors, refuse_too_long
from app.nlu.pipeline import UnsupportedLanguageError
from app.store.db import ping

router = APIRouter(responses=errors(400, 413))
RETRY = {"Retry-After": "5"}


def _checked(body: TextRequest) -> TextRequest:
    refuse_too_long(body.text)
    return body


PING_SECONDS = 2.0  # a frozen database must not hang the health checks


async def _ready(request: Request) -> JSONResponse:
    if getattr(request.app.state, "triager", None) is None:
        return JSONResponse({"status": "starting"}, status_code=503, headers=RETRY)
    engine = getattr(request.app.state, "db_engine", None)
    try:
        answers = engine is not None and await asyncio.wait_for(ping(engine), PING_SECONDS)
    except TimeoutError:
        answers = False
    if not answers:
        return JSONResponse({"status": "database unavailable"}, status_code=503, headers=RETRY)
    return JSONResponse({"status": "ok"})


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 once the model is loaded and the database answers (design.md's contract)."""
    return await _ready(request)


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Readiness for a load balancer: the same check as /healthz."""
    return await _ready(request)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of this process (no patient text, ids or addresses)."""
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )


@router.get("/livez")
async def livez() -> dict[str, str]:
    """Liveness: the process answers (a database outage does not make it restart)."""
    return {"status": "alive"}


def unsupported(error: UnsupportedLanguageError) -> JSONResponse:
    """422 in the shape of every other 422: a list of problems with where and why."""
    problem = {"loc": ["body", "text"], "msg": str(error), "type": "unsupported_language"}
    return JSONResponse({"detail": [problem]}, status_code=422)


@router.post("/model/parse", dependencies=[Depends(limited("triage"))], responses=RATE_LIMITED)
async def model_parse(body: TextRequest, triager: TriagerDep) -> dict[str, Any]:
    """Rasa's NLU parse shape, with our context flags on each entity."""
    body = _checked(body)
    try:
        return triager.parse(body.text, body.lang).to_rasa()
    except UnsupportedLanguageError as error:
        return unsupported(error)  # type: ignore[return-value]


@router.post("/api/triage", dependencies=[Depends(limited("triage"))], responses=RATE_LIMITED)
async def api_triage(body: TextRequest, triager: TriagerDep) -> dict[str, Any]:
    """Triage one message: level, categories, symptoms, guidance with sources, questions."""
    body = _checked(body)
    try:
        return triager.triage_json(body.text, body.lang)
    except UnsupportedLanguageError as error:
        return unsupported(error)  # type: ignore[return-value]
