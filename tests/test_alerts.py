"""Alert delivery to a real local HTTP receiver: retried while it is down, never lost,
also across a restart of the service."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

from app.alerts.outbox import (
    CLAIM_MARGIN_SECONDS,
    AlertOutbox,
    backoff_seconds,
    idempotency_key,
)
from app.store.models import Alert, AlertDelivery
from tests.conftest import eventually, free_port, running_app


class Receiver:
    """A webhook receiver on a fixed port that can be started and stopped; it takes
    `delay` seconds per alert and notes the headers and how many it answered at once."""

    def __init__(self, delay: float = 0.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/alerts"
        self.delay = delay
        self.received: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.peak = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                with outer._lock:
                    outer.in_flight += 1
                    outer.peak = max(outer.peak, outer.in_flight)
                time.sleep(outer.delay)
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length))
                with outer._lock:
                    outer.in_flight -= 1
                    outer.received.append(body)
                    outer.headers.append(dict(self.headers))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


async def alerts(app) -> list[Alert]:
    async with app.state.conversations.sessionmaker() as session:
        return (await session.scalars(select(Alert).order_by(Alert.id))).all()


async def deliveries(app) -> list[AlertDelivery]:
    async with app.state.conversations.sessionmaker() as session:
        return (await session.scalars(select(AlertDelivery).order_by(AlertDelivery.id))).all()


async def report(http, sender: str, text: str) -> None:
    response = await http.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    assert response.status_code == 200


async def test_alert_is_delivered_with_its_severity(triager, database_url):
    receiver = Receiver()
    receiver.start()
    try:
        async with running_app(triager, database_url, alert_webhook_url=receiver.url) as (
            app,
            http,
        ):
            await report(http, "p1", "I'm at my infusion and I'm covered in itchy bumps")
            await eventually(lambda: _delivered(app, 1))
            [body] = receiver.received
            assert body["severity"] == "critical" and body["reason"] == "emergency"
            assert body["categories"] == ["infusion_reaction"]
            assert "itchy" not in json.dumps(body)  # no message text leaves the service
    finally:
        receiver.stop()


async def _delivered(app, count: int) -> bool:
    rows = await alerts(app)
    return len(rows) == count and all(a.delivery_status == "delivered" for a in rows)


async def test_receiver_down_then_up_delivers_every_alert(triager, database_url):
    receiver = Receiver()  # not started: connections are refused
    try:
        async with running_app(triager, database_url, alert_webhook_url=receiver.url) as (
            app,
            http,
        ):
            await report(http, "p1", "my eyes look kind of yellow")
            await report(http, "p2", "can I speak to a person please")

            async def failed_twice():
                return len([d for d in await deliveries(app) if not d.succeeded]) >= 4

            await eventually(failed_twice)
            assert all(a.delivery_status == "pending" for a in await alerts(app))
            receiver.start()
            await eventually(lambda: _delivered(app, 2))
            assert sorted(b["severity"] for b in receiver.received) == ["high", "normal"]
            attempts = await deliveries(app)
            assert [d.succeeded for d in attempts].count(True) == 2
            assert all(d.error for d in attempts if not d.succeeded)
    finally:
        receiver.stop()


async def test_pending_alerts_survive_a_restart(triager, database_url):
    receiver = Receiver()
    try:
        async with running_app(triager, database_url, alert_webhook_url=receiver.url) as (
            app,
            http,
        ):
            await report(http, "p1", "my nose won't stop bleeding")
            await eventually(lambda: _has_failed_attempt(app))
        receiver.start()
        async with running_app(triager, database_url, alert_webhook_url=receiver.url) as (app, _):
            await eventually(lambda: _delivered(app, 1))
        assert [b["severity"] for b in receiver.received] == ["critical"]
    finally:
        receiver.stop()


async def _has_failed_attempt(app) -> bool:
    return any(not d.succeeded for d in await deliveries(app))


def test_backoff_grows_and_is_capped():
    assert [backoff_seconds(n, 1.0, 10.0) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


async def test_critical_alerts_go_first_one_at_a_time(triager, database_url):
    """A normal, a high and a critical alert wait together (raised while no receiver
    was configured); delivering one at a time, the critical one is sent first.

    The outbox is driven directly: with the service's own worker, alerts that failed at
    different moments fall due at different moments, and the order would be a race."""
    receiver = Receiver()
    receiver.start()
    try:
        async with running_app(triager, database_url, alert_webhook_url="") as (app, http):
            await report(http, "p1", "can I speak to a person please")
            await report(http, "p2", "my eyes look kind of yellow")
            await report(http, "p3", "I'm at my infusion and I'm covered in itchy bumps")
            outbox = AlertOutbox(app.state.conversations.sessionmaker, receiver.url, concurrency=1)
            assert await outbox.deliver_due() == 3
            assert await _delivered(app, 3)
        assert [b["severity"] for b in receiver.received] == ["critical", "high", "normal"]
    finally:
        receiver.stop()


async def test_alerts_are_sent_several_at_a_time_with_an_idempotency_key(triager, database_url):
    receiver = Receiver(delay=0.5)
    receiver.start()
    try:
        async with running_app(triager, database_url, alert_webhook_url=receiver.url) as (
            app,
            http,
        ):
            for n in range(6):
                await report(http, f"p{n}", "my nose won't stop bleeding")
            await eventually(lambda: _delivered(app, 6))
            rows = await alerts(app)
        assert receiver.peak >= 2  # not one after another
        keys = {h["Idempotency-Key"].rsplit("-", 1)[0] for h in receiver.headers}
        assert keys == {f"triagebot-alert-{a.id}" for a in rows}
        assert len({h["Idempotency-Key"] for h in receiver.headers}) == 6

    finally:
        receiver.stop()


async def test_an_attempt_is_recorded_before_it_is_made(triager, database_url):
    """While the receiver is still answering, the attempt is already in the database (a
    crash now leaves a record of it), and the claim lasts no longer than the receiver's
    timeout and a margin (a crashed process holds the alert no longer)."""
    receiver = Receiver(delay=1.5)
    receiver.start()
    try:
        async with running_app(
            triager, database_url, alert_webhook_url=receiver.url, alert_timeout_seconds=3.0
        ) as (app, http):
            await report(http, "p1", "my nose won't stop bleeding")

            async def sending():
                return [d for d in await deliveries(app) if d.error == "sending"]

            [attempt] = await eventually(sending)
            assert receiver.received == []  # not answered yet
            [alert] = await alerts(app)
            held = (alert.next_attempt_at - attempt.attempted_at).total_seconds()
            assert held <= 3.0 + CLAIM_MARGIN_SECONDS
            await eventually(lambda: _delivered(app, 1))
            [done] = await deliveries(app)
            assert done.id == attempt.id and done.succeeded and done.error is None
    finally:
        receiver.stop()


def test_the_idempotency_key_changes_with_the_alert_s_state():
    body = {"alert_id": 7, "severity": "high", "level": "urgent", "categories": ["liver"]}
    same = idempotency_key(dict(body))
    assert same == idempotency_key(body) and same.startswith("triagebot-alert-7-")
    assert idempotency_key(body | {"severity": "critical", "level": "emergency"}) != same
