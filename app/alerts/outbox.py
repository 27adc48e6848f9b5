"""Delivery of alerts to ALERT_WEBHOOK_URL: an outbox in the database, retried with backoff.

An alert row is written in the same transaction as the turn that raised it, so it is never
lost; this worker claims due alerts, POSTs them, and records every attempt. A receiver that
is down only delays delivery, also across restarts.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.store.models import Alert, AlertDelivery

log = logging.getLogger("triagebot.alerts")
CLAIM_SECONDS = 60  # an alert being sent is not picked again for this long
BATCH = 20


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
    ) -> None:
        self.sessionmaker = sessionmaker
        self.url = url
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """A new alert was committed: deliver now rather than at the next poll."""
        self._wake.set()

    async def _claim(self) -> list[dict[str, Any]]:
        now = now_utc()
        async with self.sessionmaker() as session, session.begin():
            query = (
                select(Alert)
                .where(Alert.delivery_status == "pending")
                .where(or_(Alert.next_attempt_at.is_(None), Alert.next_attempt_at <= now))
                .order_by(Alert.id)
                .limit(BATCH)
            )
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            alerts = (await session.scalars(query)).all()
            claimed = []
            for alert in alerts:
                alert.next_attempt_at = now + timedelta(seconds=CLAIM_SECONDS)
                claimed.append(payload(alert))
        return claimed

    async def _record(self, alert_id: int, status: int | None, error: str | None) -> None:
        now = now_utc()
        async with self.sessionmaker() as session, session.begin():
            alert = await session.get(Alert, alert_id)
            if alert is None:
                return
            alert.delivery_attempts += 1
            ok = status is not None and 200 <= status < 300
            session.add(
                AlertDelivery(
                    alert_id=alert_id,
                    attempt=alert.delivery_attempts,
                    attempted_at=now,
                    status_code=status,
                    error=error,
                    succeeded=ok,
                )
            )
            if ok:
                alert.delivery_status = "delivered"
                alert.delivered_at = now
                alert.next_attempt_at = None
            else:
                wait = backoff_seconds(alert.delivery_attempts, self.base_seconds, self.max_seconds)
                alert.next_attempt_at = now + timedelta(seconds=wait)

    async def deliver_due(self) -> int:
        """Try every due alert once; returns how many were delivered."""
        if not self.url:
            return 0
        delivered = 0
        claimed = await self._claim()
        if not claimed:
            return 0
        async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
            for body in claimed:
                status, error = None, None
                try:
                    response = await client.post(self.url, json=body)
                    status = response.status_code
                    if not response.is_success:
                        error = f"HTTP {status}"
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                await self._record(body["alert_id"], status, error)
                if error is None:
                    delivered += 1
                else:
                    log.warning("alert %s not delivered: %s", body["alert_id"], error)
        return delivered

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Deliver until stopped (or cancelled)."""
        self._stopping = False
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
