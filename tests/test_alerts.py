"""Alert delivery to a real local HTTP receiver: retried while it is down, never lost,
also across a restart of the service."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

from app.alerts.outbox import backoff_seconds
from app.store.models import Alert, AlertDelivery
from tests.conftest import eventually, free_port, running_app


class Receiver:
    """A webhook receiver on a fixed port that can be started and stopped."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/alerts"
        self.received: list[dict] = []
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length", 0))
                received.append(json.loads(self.rfile.read(length)))
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
