"""Engine, sessions and migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
T = TypeVar("T")


def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    """WAL, a busy timeout and enforced foreign keys on every SQLite connection."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Deleted rows are overwritten, not just unlinked: a purged message must not stay
    # readable in the file's free pages (see `forget_deleted`).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def forget_deleted(url: str) -> bool:
    """After a purge on SQLite: move the write-ahead log into the file and empty it, so
    that no old copy of a deleted page stays in the -wal file. False when readers kept it
    from finishing (the service is busy: the next checkpoint will do it)."""
    address = make_url(url)
    if not address.drivername.startswith("sqlite") or not address.database:
        return True
    import sqlite3

    with sqlite3.connect(address.database, timeout=30) as connection:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return busy == 0


def make_engine(url: str, pool_size: int = 20) -> AsyncEngine:
    """An async engine (SQLite through aiosqlite, PostgreSQL through asyncpg)."""
    # hide_parameters: a failed statement's error (and log line) never carries its values,
    # which are patient text.
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # Connect and statement timeouts: a frozen server fails requests (503) instead of
    # hanging them.
    # A pool as large as the requests one process has in the database at once: with
    # SQLAlchemy's default (5) a load of 200 patients opened and closed ~12 PostgreSQL
    # connections a second, each a new server process (bench/load.py).
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=10,
        pool_timeout=10,
        hide_parameters=True,
        connect_args={"timeout": 5, "command_timeout": 15},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


class Transactions:
    """Runs a blocking function on a Connection as one transaction, for the hot path (a
    patient's turn).

    aiosqlite crosses to its thread and back for every cursor call, which cost a turn
    several milliseconds; the same statements on the plain sqlite3 driver in one worker
    thread cross once. PostgreSQL keeps its async driver (`AsyncConnection.run_sync`), so
    the function is the same for both."""

    def __init__(self, url: str, engine: AsyncEngine) -> None:
        self._async = engine
        self._blocking: Engine | None = None
        if url.startswith("sqlite+aiosqlite"):
            self._blocking = create_engine(
                url.replace("+aiosqlite", "", 1), connect_args={"timeout": 30}, hide_parameters=True
            )
            event.listen(self._blocking, "connect", _sqlite_pragmas)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(connection, *args)` in one transaction."""
        if self._blocking is not None:
            return await asyncio.to_thread(self._run_blocking, work, *args)
        async with self._async.begin() as connection:
            return await connection.run_sync(work, *args)

    def _run_blocking(self, work: Callable[..., T], *args: Any) -> T:
        assert self._blocking is not None
        with self._blocking.begin() as connection:
            return work(connection, *args)

    def dispose(self) -> None:
        if self._blocking is not None:
            self._blocking.dispose()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Run Alembic migrations up to `revision` (blocking; call from a thread in async code)."""
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str) -> None:
    await asyncio.to_thread(upgrade, url)


async def ping(engine: AsyncEngine) -> bool:
    """True when the database answers."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - health check: any failure means "not ready"
        return False
