"""Rasa's REST channel: POST /webhooks/rest/webhook {sender, message} -> bot messages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from app.api.deps import ConversationsDep, OutboxDep
from app.api.schemas import PatientText, refuse_too_long

router = APIRouter()


class RestMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sender: StrictStr = Field(min_length=1, max_length=128)
    message: PatientText


@router.post("/webhooks/rest/webhook")
async def rest_webhook(
    body: RestMessage, conversations: ConversationsDep, outbox: OutboxDep
) -> list[dict[str, Any]]:
    """The first message carries custom.triage: this turn's level and categories and the
    conversation's level."""
    reply = await conversations.rest_turn(body.sender, refuse_too_long(body.message))
    if reply.alert_ids and outbox is not None:
        outbox.wake()
    return [{"recipient_id": body.sender, **message} for message in reply.messages]
