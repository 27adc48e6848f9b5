"""rasa-sdk's action-server protocol (POST /webhook, GET /actions) for a real Rasa server."""

from __future__ import annotations

import json
import zlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from rasa_sdk.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)

from app.api.schemas import errors

# 400: a body rasa-sdk could not read either (not JSON, no tracker)
router = APIRouter(tags=["action server"], responses=errors(400, 413))
MAX_INFLATED_BYTES = 16 * 1024 * 1024  # a long tracker with its domain fits easily


@router.get("/health")
async def health() -> dict[str, str]:
    """rasa-sdk's action server health check."""
    return {"status": "ok"}


@router.get("/actions")
async def list_actions(request: Request) -> list[dict[str, str]]:
    executor = request.app.state.dialogue.action_server
    return [{"name": name} for name in executor.actions]


@router.post("/webhook")
async def webhook(request: Request) -> JSONResponse:
    """Same status codes as rasa-sdk's own server: 400 unreadable body or rejection, 404
    unknown action, 449 domain missing, 500 a call it cannot run (no tracker, a list);
    `null` when there is nothing to run. Rasa's compressed requests (Content-Encoding:
    deflate, COMPRESS_ACTION_SERVER_REQUEST) are read too."""
    body = await request.body()
    try:
        if request.headers.get("content-encoding", "").lower() == "deflate":
            inflater = zlib.decompressobj()
            body = inflater.decompress(body, MAX_INFLATED_BYTES)
            if inflater.unconsumed_tail:  # a deflate bomb, or a tracker far too large
                return JSONResponse({"error": "request too large"}, status_code=413)
        action_call: Any = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, zlib.error):
        return JSONResponse({"error": "Invalid body request"}, status_code=400)
    if action_call is None:
        return JSONResponse({"error": "Invalid body request"}, status_code=400)
    if not isinstance(action_call, dict):
        # rasa-sdk answers 500 here; Rasa reads 400 as "action rejected", so it must not.
        return JSONResponse({"error": "the action call must be a JSON object"}, status_code=500)
    executor = request.app.state.dialogue.action_server
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
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        # rasa-sdk's 500 (its error handler), without echoing the tracker (patient text).
        return JSONResponse(
            {"error": f"the action call cannot be run: {type(error).__name__}"}, status_code=500
        )
    return JSONResponse(result.model_dump() if result else None)
