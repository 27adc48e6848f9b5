"""Shared fixtures: one triage model per session, real SQLite files, a real PostgreSQL
server started here, and the app served through httpx."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from app.main import create_app
from app.replay.runner import served
from app.settings import Settings
from app.triager import Triager

# The suite runs at any hour: the clinic is open unless a test sets its own hours (the
# default, Mon-Fri 08:00-18:00, made handoff replies depend on the time CI ran).
os.environ.setdefault("TRIAGE_CLINIC_HOURS", "Mon-Sun 00:00-24:00")

if TYPE_CHECKING:  # Playwright is imported only by the browser test modules
    from playwright.sync_api import Browser

    from tests.browser_support import LiveService

SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


_TRIAGER: Triager | None = None


def shared_triager() -> Triager:
    """One triage model for the whole test session (fixtures and conversation items)."""
    global _TRIAGER
    if _TRIAGER is None:
        _TRIAGER = Triager()
    return _TRIAGER


@pytest.fixture(scope="session")
def triager() -> Triager:
    return shared_triager()


# ---------------------------------------------------------------------- conversation fixtures


class FixtureFailed(Exception):
    """A conversation fixture did not behave as expected; the message is the diff."""


class ConversationFile(pytest.File):
    """tests/conversations/*.yml: every fixture in the file is a test item."""

    def collect(self):
        from app.dialogue.domain import default_domain
        from app.replay.fixtures import FixtureLoader
        from app.triage.protocol import default_protocol

        loader = FixtureLoader(default_protocol(), set(default_domain().responses))
        for fixture in loader.load_file(self.path):
            yield ConversationItem.from_parent(self, name=fixture.name, fixture=fixture)


class ConversationItem(pytest.Item):
    def __init__(self, *, fixture, **kwargs) -> None:
        super().__init__(**kwargs)
        self.fixture = fixture

    def runtest(self) -> None:
        from app.replay.runner import in_process_client, replay

        async def run():
            async with in_process_client(shared_triager()) as http:
                return await replay(self.fixture, http)

        result = asyncio.run(run())
        if not result.passed:
            raise FixtureFailed(result.diff())

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, FixtureFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, self.fixture.line - 1, f"conversation: {self.fixture.name}"


def pytest_collect_file(parent, file_path):
    if file_path.suffix in {".yml", ".yaml"} and file_path.parent.name == "conversations":
        return ConversationFile.from_parent(parent, path=file_path)
    return None


@pytest.fixture
async def client(triager: Triager, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/triage.db", rest_channel="open"
    )
    async with served(create_app(settings, triager=triager)) as http:
        yield http


# ---------------------------------------------------------------------- PostgreSQL


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL server on 127.0.0.1 (initdb into a temp dir)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        pytest.fail("PostgreSQL binaries not found; `make test` installs Debian's postgresql")
    pg_bin = bins[-1]
    base = tempfile.mkdtemp(prefix="triage-pg-")
    os.chmod(base, 0o755)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data = f"{base}/data"
    port = free_port()
    subprocess.run(
        _as_postgres(
            [f"{pg_bin}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off"
    subprocess.run(
        _as_postgres(
            [f"{pg_bin}/pg_ctl", "-D", data, "-o", options, "-l", f"{base}/log", "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([f"{pg_bin}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


async def _create_database(server: str) -> str:
    import asyncpg

    name = f"t_{uuid.uuid4().hex[:12]}"
    dsn = server.replace("postgresql+asyncpg", "postgresql") + "/postgres"
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/triage.db"
    server = request.getfixturevalue("postgres_server")
    return await _create_database(server)


@asynccontextmanager
async def running_app(
    triager: Triager, database_url: str, **overrides
) -> AsyncIterator[tuple[object, httpx.AsyncClient]]:
    """The whole service on `database_url`, with fast alert retries for tests."""
    values = {
        "database_url": database_url,
        "alert_poll_seconds": 0.05,
        "alert_retry_base_seconds": 0.05,
        "alert_retry_max_seconds": 0.2,
        "alert_timeout_seconds": 2.0,
        "rest_channel": "open",  # tests that need it closed say so
        **overrides,
    }
    app = create_app(Settings(**values), triager=triager)
    async with served(app) as http:
        yield app, http


async def eventually(check, timeout: float = 10.0, interval: float = 0.05):
    """Poll an async `check` until it returns a truthy value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


# ---------------------------------------------------------------------- browser tests


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The service in its own process on a fresh SQLite file, for one browser test module."""
    from tests.browser_support import start_service

    yield from start_service(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (one per browser test module)."""
    from tests.browser_support import launch_chromium

    yield from launch_chromium()
