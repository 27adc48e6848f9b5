"""Rasa's REST channel: POST /webhooks/rest/webhook {sender, message} -> bot messages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from app.api.deps import ConversationsDep, OutboxDep
from app.api.schemas import TooLongError
from app.nlu.pipeline import MAX_MESSAGE_CHARS

router = APIRouter()


class RestMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sender: StrictStr = Field(min_length=1, max_length=128)
    message: StrictStr = Field(min_length=1)

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be blank")
        if "\x00" in value:
            raise ValueError("message must not contain NUL characters")
        return value


@router.post("/webhooks/rest/webhook")
async def rest_webhook(
    body: RestMessage, conversations: ConversationsDep, outbox: OutboxDep
) -> list[dict[str, Any]]:
    """The first message carries custom.triage: this turn's level and categories and the
    conversation's level."""
    if len(body.message) > MAX_MESSAGE_CHARS:
        raise TooLongError(len(body.message))
    reply = await conversations.rest_turn(body.sender, body.message)
    if reply.alert_ids and outbox is not None:
        outbox.wake()
    return [{"recipient_id": body.sender, **message} for message in reply.messages]
