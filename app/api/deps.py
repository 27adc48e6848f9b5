"""FastAPI dependencies: the objects the app builds at start-up.

Async although they never wait: FastAPI runs a plain `def` dependency in a worker thread,
a thread crossing per dependency per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.alerts.outbox import AlertOutbox
from app.conversations.service import ConversationService
from app.triager import Triager


async def get_triager(request: Request) -> Triager:
    return request.app.state.triager


async def get_conversations(request: Request) -> ConversationService:
    return request.app.state.conversations


async def get_outbox(request: Request) -> AlertOutbox | None:
    return getattr(request.app.state, "outbox", None)


TriagerDep = Annotated[Triager, Depends(get_triager)]
ConversationsDep = Annotated[ConversationService, Depends(get_conversations)]
OutboxDep = Annotated[AlertOutbox | None, Depends(get_outbox)]
