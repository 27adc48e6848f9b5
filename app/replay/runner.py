"""Replaying fixtures through the REST channel (in-process or against a running server),
checking every expectation, and reporting readable diffs and JUnit XML."""

from __future__ import annotations

import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx

from app.replay.fixtures import Expectation, Fixture, Turn

# Which bot responses mean the bot asked which question.
ASKING_RESPONSES = {
    "utter_ask_infusion_window": "infusion_window",
    "utter_ask_infusion_window_again": "infusion_window",
    "utter_ask_infusion_window_pending": "infusion_window",
    "utter_red_flag_screen": "red_flag_screen",
}


@dataclass
class Observed:
    """What the bot said and decided in one turn."""

    level: str
    conversation_level: str
    categories: list[str]
    responses: list[str]
    texts: list[str]

    @property
    def asks(self) -> set[str]:
        return {ASKING_RESPONSES[r] for r in self.responses if r in ASKING_RESPONSES}

    @classmethod
    def from_reply(cls, reply: list[dict[str, Any]]) -> Observed:
        triage = (reply[0].get("custom") or {}).get("triage") or {} if reply else {}
        return cls(
            level=triage.get("level", "none"),
            conversation_level=triage.get("conversation_level", "none"),
            categories=list(triage.get("categories") or []),
            responses=[(m.get("custom") or {}).get("response", "") for m in reply],
            texts=[m.get("text") or "" for m in reply],
        )


def check(expect: Expectation, seen: Observed) -> list[str]:
    """Every expectation that does not hold, as one line each."""
    failures = []
    if expect.level and seen.conversation_level != expect.level:
        failures.append(f"level: expected {expect.level}, got {seen.conversation_level}")
    missing = [c for c in expect.categories if c not in seen.categories]
    if missing:
        failures.append(f"categories: expected all of {expect.categories}, missing {missing}")
    if expect.categories_any and not set(expect.categories_any) & set(seen.categories):
        failures.append(
            f"categories_any: expected one of {expect.categories_any}, got {seen.categories}"
        )
    if expect.asks and expect.asks not in seen.asks:
        asked = sorted(seen.asks) or "nothing"
        failures.append(f"asks: expected the bot to ask {expect.asks}, it asked {asked}")
    absent = [name for name in expect.utter if name not in seen.responses]
    if absent:
        failures.append(f"utter: expected {absent} among the responses")
    said = "\n".join(seen.texts).casefold()
    for text in expect.bot_contains:
        if text.casefold() not in said:
            failures.append(f"bot_contains: {text!r} not in the bot's messages")
    for text in expect.bot_not_contains:
        if text.casefold() in said:
            failures.append(f"bot_not_contains: {text!r} found in the bot's messages")
    return failures


@dataclass
class TurnResult:
    turn: Turn
    observed: Observed | None
    failures: list[str]


@dataclass
class FixtureResult:
    fixture: Fixture
    turns: list[TurnResult] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.error is None and all(not t.failures for t in self.turns)

    def diff(self) -> str:
        """A readable account of every failed turn: expected vs what the bot did."""
        lines = [f"FAIL {self.fixture.name} ({self.fixture.location})"]
        if self.error:
            lines.append(f"  error: {self.error}")
        for number, result in enumerate(self.turns, start=1):
            if not result.failures:
                continue
            where = f"{self.fixture.path}:{result.turn.line}"
            lines.append(f"  turn {number} ({where}): user: {result.turn.user!r}")
            lines += [f"    - {failure}" for failure in result.failures]
            seen = result.observed
            if seen is not None:
                lines.append(
                    f"    decided: level={seen.level} categories={seen.categories} "
                    f"conversation_level={seen.conversation_level}"
                )
                lines.append(f"    responses: {[r for r in seen.responses if r]}")
                lines.append("    bot said:")
                lines += [f"      | {text}" for text in seen.texts]
        return "\n".join(lines)


async def replay(fixture: Fixture, http: httpx.AsyncClient) -> FixtureResult:
    """Run one fixture as a new conversation through the REST channel."""
    result = FixtureResult(fixture)
    sender = f"replay-{uuid.uuid4().hex[:12]}"
    started = time.perf_counter()
    for turn in fixture.turns:
        try:
            response = await http.post(
                "/webhooks/rest/webhook", json={"sender": sender, "message": turn.user}
            )
        except httpx.HTTPError as error:
            result.error = f"request failed: {error}"
            break
        if response.status_code != 200:
            result.turns.append(
                TurnResult(turn, None, [f"HTTP {response.status_code}: {response.text[:200]}"])
            )
            break
        seen = Observed.from_reply(response.json())
        result.turns.append(TurnResult(turn, seen, check(turn.expect, seen)))
    result.seconds = time.perf_counter() - started
    return result


@asynccontextmanager
async def served(app) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to `app` in this process, with its start-up and shutdown run."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://local") as http:
            yield http


@asynccontextmanager
async def in_process_client(triager=None) -> AsyncIterator[httpx.AsyncClient]:
    """The service in this process on a fresh temporary SQLite database."""
    from app.main import create_app
    from app.settings import Settings

    with TemporaryDirectory(prefix="triage-replay-") as folder:
        # Nobody else can reach an in-process app: its REST channel can be open.
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{folder}/replay.db", rest_channel="open"
        )
        async with served(create_app(settings, triager=triager)) as http:
            yield http


@asynccontextmanager
async def remote_client(url: str, token: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A running server's REST channel (its TRIAGE_REST_TOKEN when it asks for one)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=url.rstrip("/"), timeout=30, headers=headers) as http:
        yield http


def write_junit(results: list[FixtureResult], path: Path) -> None:
    """JUnit XML: one testcase per fixture, the diff as the failure text."""
    failures = sum(not r.passed for r in results)
    suite = ET.Element(
        "testsuite",
        name="triagebot replay",
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=str(result.fixture.path),
            name=result.fixture.name,
            time=f"{result.seconds:.3f}",
        )
        if not result.passed:
            failure = ET.SubElement(case, "failure", message=f"{result.fixture.name} failed")
            failure.text = result.diff()
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
