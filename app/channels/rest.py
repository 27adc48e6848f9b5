"""Rasa's REST channel: POST /webhooks/rest/webhook {sender, message} -> bot messages.

Trust model: Rasa's REST channel authenticates nobody, so whoever knows a sender id can
write into that conversation and read its level. It is therefore off unless configured
(TRIAGE_REST_CHANNEL): "token" asks every caller for `Authorization: Bearer
TRIAGE_REST_TOKEN` (a trusted front end, QA replays), "open" is for local testing only.
Its conversations live in their own namespace ("rest:<sender>"), so no REST sender can
reach a widget conversation ("widget:<id>"), whatever it calls itself.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from app.api.deps import ConversationsDep, OutboxDep
from app.api.schemas import PatientText, errors, refuse_too_long

router = APIRouter(responses=errors(400, 401, 404, 413))
MAX_SENDER_CHARS = 120  # stored as "rest:<sender>" in a 128-character column


class RestMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sender: StrictStr = Field(min_length=1, max_length=MAX_SENDER_CHARS)
    message: PatientText


async def trusted_caller(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> None:
    """The channel's trust model (module docstring): off, token or open. (Async so that
    FastAPI does not send it to a worker thread.)"""
    settings = request.app.state.settings
    if settings.rest_channel == "off":
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            "the REST channel is off on this server (TRIAGE_REST_CHANNEL); patients use the "
            "widget API",
        )
    if settings.rest_channel == "token":
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not (authorization or "").startswith("Bearer ") or not hmac.compare_digest(
            given.encode(), settings.rest_token.encode()
        ):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "the REST channel needs 'Authorization: Bearer <TRIAGE_REST_TOKEN>'",
                headers={"WWW-Authenticate": "Bearer"},
            )


@router.get("/webhooks/rest/", dependencies=[Depends(trusted_caller)])
async def rest_health() -> dict[str, str]:
    """Rasa's channel health check (answers only where the channel is on)."""
    return {"status": "ok"}


@router.post("/webhooks/rest/webhook", dependencies=[Depends(trusted_caller)])
async def rest_webhook(
    body: RestMessage, conversations: ConversationsDep, outbox: OutboxDep
) -> list[dict[str, Any]]:
    """The first message carries custom.triage: this turn's level and categories and the
    conversation's level."""
    reply = await conversations.rest_turn(body.sender, refuse_too_long(body.message))
    if reply.alert_ids and outbox is not None:
        outbox.wake()
    return [{"recipient_id": body.sender, **message} for message in reply.messages]
