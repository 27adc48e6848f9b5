"""Routes of the triage core: Rasa-style parse, triage, health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.api.deps import TriagerDep
from app.api.schemas import TextRequest, refuse_too_long
from app.nlu.pipeline import UnsupportedLanguageError
from app.store.db import ping

router = APIRouter()


def _checked(body: TextRequest) -> TextRequest:
    refuse_too_long(body.text)
    return body


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 once the model is loaded and the database answers."""
    if getattr(request.app.state, "triager", None) is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    engine = getattr(request.app.state, "db_engine", None)
    if engine is None or not await ping(engine):
        return JSONResponse({"status": "database unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.post("/model/parse")
async def model_parse(body: TextRequest, triager: TriagerDep) -> dict[str, Any]:
    """Rasa's NLU parse shape, with our context flags on each entity."""
    body = _checked(body)
    try:
        return triager.parse(body.text, body.lang).to_rasa()
    except UnsupportedLanguageError as error:
        return JSONResponse({"detail": str(error)}, status_code=422)  # type: ignore[return-value]


@router.post("/api/triage")
async def api_triage(body: TextRequest, triager: TriagerDep) -> dict[str, Any]:
    """Triage one message: level, categories, symptoms, guidance with sources, questions."""
    body = _checked(body)
    try:
        return triager.triage_json(body.text, body.lang)
    except UnsupportedLanguageError as error:
        return JSONResponse({"detail": str(error)}, status_code=422)  # type: ignore[return-value]
