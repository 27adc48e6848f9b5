"""A bare FastAPI endpoint with the same request shape: the reference for bench.rest_channel."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Message(BaseModel):
    sender: str
    message: str


@app.post("/webhooks/rest/webhook")
async def echo(body: Message) -> list[dict]:
    return [{"recipient_id": body.sender, "text": body.message}]
