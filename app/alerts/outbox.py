"""Delivery of alerts to ALERT_WEBHOOK_URL: an outbox in the database, retried with backoff.

An alert row is written in the same transaction as the turn that raised it, so it is never
lost; this worker claims due alerts (critical first), POSTs a few at a time, and records
every attempt before it is made. A receiver that is down only delays delivery, also across
restarts; one that sees an alert twice in the same state (after a crash mid-send) can
drop the repeat by its `Idempotency-Key` header.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.conversations.service import aware
from app.observability.metrics import Metrics
from app.store.models import Alert, AlertDelivery

log = logging.getLogger("triagebot.alerts")
# A claimed alert is not picked again until its POST has had time to finish: the
# receiver's timeout and this margin. A process killed mid-send delays it no longer.
CLAIM_MARGIN_SECONDS = 5.0
SENDING = "sending"  # the error of an attempt still under way (or cut short by a crash)
SEVERITY_FIRST = case({"critical": 0, "high": 1}, value=Alert.severity, else_=2)


def now_utc() -> datetime:
    return datetime.now(UTC)


def backoff_seconds(attempt: int, base: float, maximum: float) -> float:
    """Exponential backoff: base, 2*base, 4*base, ... capped at maximum."""
    return min(maximum, base * (2 ** max(0, attempt - 1)))


def payload(alert: Alert) -> dict[str, Any]:
    """What the receiver gets: no message text (health data stays in the dashboard)."""
    return {
        "alert_id": alert.id,
        "conversation_id": alert.conversation_id,
        "severity": alert.severity,
        "reason": alert.reason,
        "level": alert.level,
        "categories": alert.categories,
        "created_at": alert.created_at.isoformat() if alert.created_at else None,
    }


def idempotency_key(body: dict[str, Any]) -> str:
    """The same for every delivery of the same alert in the same state (a repeat after a
    crash mid-send); an escalated or updated alert is news, with a new key."""
    state = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    return f"triagebot-alert-{body['alert_id']}-{state}"


class AlertOutbox:
    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        url: str,
        *,
        base_seconds: float = 1.0,
        max_seconds: float = 300.0,
        poll_seconds: float = 2.0,
        timeout_seconds: float = 5.0,
        concurrency: int = 16,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics
        self.sessionmaker = sessionmaker
        self.url = url
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.concurrency = max(1, concurrency)
        self._wake = asyncio.Event()
        self._stopping = False
        # One client for the worker's life: creating one loads the CA bundle (22-46 ms of
        # CPU on the event loop, per round, in bench/load.py) and drops the receiver's
        # kept-alive connection.
        self._client: httpx.AsyncClient | None = None

    def wake(self) -> None:
        """A new alert was committed: deliver now rather than at the next poll."""
        self._wake.set()

    async def _claim(self, session: AsyncSession) -> list[tuple[dict[str, Any], int]]:
        """Up to `concurrency` due alerts, most severe first, each with the id of its
        attempt, written (and, with the caller's transaction, committed) before anything
        is sent."""
        now = now_utc()
        claim = timedelta(seconds=self.timeout_seconds + CLAIM_MARGIN_SECONDS)
        query = (
            select(Alert)
            .where(Alert.delivery_status == "pending")
            .where(or_(Alert.next_attempt_at.is_(None), Alert.next_attempt_at <= now))
            .order_by(SEVERITY_FIRST, Alert.id)
            .limit(self.concurrency)
        )
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        alerts = (await session.scalars(query)).all()
        attempts = []
        for alert in alerts:
            alert.next_attempt_at = now + claim
            alert.delivery_attempts += 1
            attempt = AlertDelivery(
                alert_id=alert.id,
                attempt=alert.delivery_attempts,
                attempted_at=now,
                status_code=None,
                error=SENDING,
                succeeded=False,
            )
            session.add(attempt)
            attempts.append((alert, attempt))
        await session.flush()
        return [(payload(alert), attempt.id) for alert, attempt in attempts]

    async def _record(
        self, session: AsyncSession, results: list[tuple[int, int | None, str | None]]
    ) -> None:
        """The outcome of each attempt (attempt id, HTTP status, error)."""
        now = now_utc()
        for attempt_id, status, error in results:
            attempt = await session.get(AlertDelivery, attempt_id)
            alert = await session.get(Alert, attempt.alert_id) if attempt else None
            if attempt is None or alert is None:
                continue
            ok = status is not None and 200 <= status < 300
            attempt.status_code = status
            attempt.error = error
            attempt.succeeded = ok
            if self.metrics is not None:
                self.metrics.deliveries.labels("delivered" if ok else "failed").inc()
                if ok and alert.created_at is not None:
                    raised = aware(alert.created_at)
                    self.metrics.delivery_delay.observe((now - raised).total_seconds())
            if ok:
                alert.delivery_status = "delivered"
                alert.delivered_at = now
                alert.next_attempt_at = None
            else:
                wait = backoff_seconds(alert.delivery_attempts, self.base_seconds, self.max_seconds)
                alert.next_attempt_at = now + timedelta(seconds=wait)

    async def _send(
        self, client: httpx.AsyncClient, body: dict[str, Any], attempt: int
    ) -> tuple[int, int | None, str | None]:
        status, error = None, None
        try:
            response = await client.post(
                self.url, json=body, headers={"Idempotency-Key": idempotency_key(body)}
            )
            status = response.status_code
            if not response.is_success:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error is not None:
            log.warning("alert %s not delivered: %s", body["alert_id"], error)
        return attempt, status, error

    async def deliver_due(self) -> int:
        """Send every due alert once, `concurrency` at a time, most severe first; returns
        how many were delivered. One transaction records a round's outcomes and claims the
        next round (the database's writers are busy with patients' turns)."""
        if not self.url:
            return 0
        if self._client is None:
            async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
                return await self._deliver_due(client)
        return await self._deliver_due(self._client)

    async def _deliver_due(self, client: httpx.AsyncClient) -> int:
        delivered = 0
        async with self.sessionmaker() as session, session.begin():
            claimed = await self._claim(session)
        while claimed:
            results = await asyncio.gather(
                *(self._send(client, body, attempt) for body, attempt in claimed)
            )
            sent = [error is None for _, _, error in results]
            delivered += sum(sent)
            # All due ones sent, or the receiver is failing: the next round waits.
            more = len(claimed) == self.concurrency and all(sent) and not self._stopping
            async with self.sessionmaker() as session, session.begin():
                await self._record(session, results)
                claimed = await self._claim(session) if more else []
        return delivered

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Deliver until stopped (or cancelled)."""
        self._stopping = False
        self._client = httpx.AsyncClient(timeout=self.timeout_seconds)
        try:
            await self._serve()
        finally:
            client, self._client = self._client, None
            await client.aclose()

    async def _serve(self) -> None:
        while not self._stopping:
            try:
                await self.deliver_due()
            except Exception:  # noqa: BLE001 - keep the worker alive; the next poll retries
                log.exception("alert delivery round failed")
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            # that arrives as the event is set, and the worker would never stop.
            try:
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
