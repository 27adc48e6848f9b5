"""Benchmark of alert delivery under load: 20 patients at once through the widget API for
15 s, each raising an alert, against a webhook receiver that takes 50 ms per POST. Reports
how long alerts waited from being raised to being delivered (p50, p95, max).

Run with `make bench` (the service in its own process on a SQLite file, on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from bench.rest_channel import free_port, serve

PATIENTS = 20
SECONDS = 15.0
RECEIVER_DELAY = 0.05
TEXTS = ["I'm at my infusion and covered in itchy bumps", "my eyes look kind of yellow"]


def receiver() -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("content-length", 0)))
            time.sleep(RECEIVER_DELAY)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    port = free_port()
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}/alerts"


async def patient(http: httpx.AsyncClient, n: int, deadline: float) -> int:
    raised = 0
    while time.monotonic() < deadline:
        created = (await http.post("/api/conversations", json={})).json()
        headers = {"Authorization": f"Bearer {created['token']}"}
        url = f"/api/conversations/{created['id']}/messages"
        answer = await http.post(url, json={"text": TEXTS[n % 2]}, headers=headers)
        answer.raise_for_status()
        raised += 1
    return raised


async def load(url: str) -> int:
    deadline = time.monotonic() + SECONDS
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        counts = await asyncio.gather(*(patient(http, n, deadline) for n in range(PATIENTS)))
    return sum(counts)


def delays(database: str) -> tuple[int, list[float]]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT created_at, delivered_at FROM alerts").fetchall()
    done = [
        (datetime.fromisoformat(delivered) - datetime.fromisoformat(created)).total_seconds()
        for created, delivered in rows
        if delivered
    ]
    return len(rows), sorted(done)


def main() -> None:
    folder = tempfile.mkdtemp(prefix="triage-alert-bench-")
    database = f"{folder}/bench.db"
    server, hook = receiver()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "ALERT_WEBHOOK_URL": hook,
        "TRIAGE_LOG_LEVEL": "WARNING",
        # the load comes from one address: its limits are off for the benchmark
        "TRIAGE_RATE_LIMIT_CONVERSATIONS": "",
        "TRIAGE_RATE_LIMIT_MESSAGES": "",
    }
    process, url = serve("app.main:create_app", env)
    try:
        raised = asyncio.run(load(url))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            total, done = delays(database)
            if total and len(done) == total:
                break
            time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=10)
        server.shutdown()
    total, done = delays(database)
    print(
        json.dumps(
            {
                "alerts_raised": raised,
                "alerts_delivered": len(done),
                "in_seconds": SECONDS,
                "receiver_delay_ms": RECEIVER_DELAY * 1000,
                "delay_p50_s": round(statistics.median(done), 2) if done else None,
                "delay_p95_s": round(done[int(len(done) * 0.95) - 1], 2) if done else None,
                "delay_max_s": round(done[-1], 2) if done else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
