"""rasa-sdk's action-server protocol (POST /webhook, GET /actions) for a real Rasa server."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from rasa_sdk.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)

router = APIRouter(tags=["action server"])


@router.get("/health")
async def health() -> dict[str, str]:
    """rasa-sdk's action server health check."""
    return {"status": "ok"}


@router.get("/actions")
async def list_actions(request: Request) -> list[dict[str, str]]:
    executor = request.app.state.dialogue.executor
    return [{"name": name} for name in executor.actions]


@router.post("/webhook")
async def webhook(request: Request) -> JSONResponse:
    """Same status codes as rasa-sdk's own server: 400 bad body or rejection, 404 unknown
    action, 449 domain missing."""
    try:
        action_call: Any = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return JSONResponse({"error": "Invalid body request"}, status_code=400)
    if not isinstance(action_call, dict):
        return JSONResponse({"error": "Invalid body request"}, status_code=400)
    executor = request.app.state.dialogue.executor
    try:
        result = await executor.run(action_call)
    except ActionExecutionRejection as error:
        return JSONResponse(
            {"error": error.message, "action_name": error.action_name}, status_code=400
        )
    except ActionNotFoundException as error:
        return JSONResponse(
            {"error": error.message, "action_name": error.action_name}, status_code=404
        )
    except ActionMissingDomainException as error:
        return JSONResponse(
            {"error": error.message, "action_name": error.action_name}, status_code=449
        )
    except (KeyError, TypeError, ValueError) as error:
        return JSONResponse({"error": f"Invalid body request: {error}"}, status_code=400)
    if result is None:
        return JSONResponse({"events": [], "responses": []})
    return JSONResponse(result.model_dump())
