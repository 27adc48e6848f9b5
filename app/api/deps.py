"""FastAPI dependencies: the objects the app builds at start-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.alerts.outbox import AlertOutbox
from app.conversations.service import ConversationService
from app.triager import Triager


def get_triager(request: Request) -> Triager:
    return request.app.state.triager


def get_conversations(request: Request) -> ConversationService:
    return request.app.state.conversations


def get_outbox(request: Request) -> AlertOutbox | None:
    return getattr(request.app.state, "outbox", None)


TriagerDep = Annotated[Triager, Depends(get_triager)]
ConversationsDep = Annotated[ConversationService, Depends(get_conversations)]
OutboxDep = Annotated[AlertOutbox | None, Depends(get_outbox)]
