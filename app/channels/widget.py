"""Widget API: a conversation per browser, readable and writable with its token only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict

from app.api.deps import ConversationsDep, OutboxDep
from app.api.rate_limits import RATE_LIMITED, limited
from app.api.schemas import PatientText, errors, refuse_too_long
from app.conversations.service import ConversationNotFound

router = APIRouter(prefix="/api/conversations", tags=["widget"], responses=errors(400, 404, 413))
NOT_FOUND = "conversation not found"


class NewConversation(BaseModel):
    model_config = ConfigDict(extra="ignore")
    lang: Literal["en", "zh"] = "en"


class PatientMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: PatientText


def _token(authorization: str | None) -> str:
    """The bearer token; a missing one is answered like a wrong one (404)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return authorization[7:].strip()


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(limited("conversations"))],
    responses=RATE_LIMITED,
)
async def create_conversation(
    conversations: ConversationsDep, body: NewConversation | None = None
) -> dict[str, Any]:
    conversation_id, token, opening = await conversations.create_widget_conversation(
        (body or NewConversation()).lang
    )
    return {"id": conversation_id, "token": token, "messages": opening}


@router.post(
    "/{conversation_id}/messages",
    dependencies=[Depends(limited("messages"))],
    responses=RATE_LIMITED,
)
async def post_message(
    conversation_id: str,
    body: PatientMessage,
    conversations: ConversationsDep,
    outbox: OutboxDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    text = refuse_too_long(body.text)
    try:
        reply = await conversations.widget_turn(conversation_id, _token(authorization), text)
    except ConversationNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND) from None
    if reply.alert_ids and outbox is not None:
        outbox.wake()
    return {"messages": reply.stored}


@router.get("/{conversation_id}/messages")
async def read_messages(
    conversation_id: str,
    conversations: ConversationsDep,
    authorization: Annotated[str | None, Header()] = None,
    after: Annotated[int, Query(ge=0, description="Only messages after this seq.")] = 0,
) -> dict[str, Any]:
    try:
        messages = await conversations.widget_messages(
            conversation_id, _token(authorization), after
        )
    except ConversationNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND) from None
    return {"messages": messages}
