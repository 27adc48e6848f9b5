"""Shared fixtures: one triage model per test session, an HTTP client on the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.main import create_app
from app.triager import Triager

DATA_DIR = Path(__file__).parent / "data"
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def triager() -> Triager:
    return Triager()


@pytest.fixture
async def client(triager: Triager) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(triager=triager)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
