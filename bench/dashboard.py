"""Benchmark of the coordinator API on a large database: how long the alert queue, the
conversation list (plain, filtered, text search), the CSV export and a transcript take
with 20,000 conversations, 120,000 messages and 6,000 alerts in a SQLite file.

Run with `make bench`. The service runs in its own process (uvicorn on 127.0.0.1); each
request is repeated and the median and 95th percentile are reported.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert

from app.store.db import upgrade
from app.store.models import Alert, Conversation, Message
from bench.rest_channel import serve

CONVERSATIONS = 20_000
MESSAGES_PER_CONVERSATION = 6
ALERT_EVERY = 10  # one conversation in ten raised an alert; some of those two
REPEATS = 30
PATIENT_TEXTS = [
    "pretty tired since the last dose",
    "my eyes look kind of yellow",
    "I've got hives all over",
    "how often do I get the infusion?",
    "no bleeding, just tired",
    "headache and a bit sick after yesterday's drip",
]


def seed(sync_url: str) -> str:
    """Fill the database; returns one conversation id with an alert."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    engine = create_engine(sync_url)
    conversations, messages, alerts = [], [], []
    for n in range(CONVERSATIONS):
        cid = f"{n:032x}"
        started = now - timedelta(minutes=rng.randrange(60 * 24 * 90))
        level = rng.choice(["none", "info", "routine", "routine", "urgent", "emergency"])
        conversations.append(
            {
                "id": cid,
                "sender_id": f"bench:{cid}",
                "channel": "widget",
                "token_hash": None,
                "lang": "en",
                "level": level,
                "slots": {},
                "alerted": [],
                "message_count": MESSAGES_PER_CONVERSATION,
                "created_at": started,
                "last_activity_at": started + timedelta(minutes=5),
                "version": 1,
                "needs_review": n % 20 == 0,
            }
        )
        for seq in range(1, MESSAGES_PER_CONVERSATION + 1):
            patient = seq % 2 == 0
            messages.append(
                {
                    "conversation_id": cid,
                    "seq": seq,
                    "role": "patient" if patient else "bot",
                    "text": rng.choice(PATIENT_TEXTS) if patient else "Thank you for telling me.",
                    "level": level if patient else None,
                    "triage": {
                        "level": level,
                        "categories": ["liver"] if level in ("urgent", "emergency") else [],
                        "needs_review": "not_understood" if rng.random() < 0.05 else None,
                    }
                    if patient
                    else None,
                    "created_at": started + timedelta(seconds=seq),
                }
            )
        if n % ALERT_EVERY == 0:
            # At most one alert still to handle per conversation (migration 0004): an
            # earlier one is resolved.
            count = rng.choice([1, 1, 2])
            for index in range(count):
                alerts.append(
                    {
                        "conversation_id": cid,
                        "severity": rng.choice(["critical", "high", "high", "normal"]),
                        "reason": "urgent",
                        "level": "urgent",
                        "categories": ["liver"],
                        "status": "resolved"
                        if index < count - 1
                        else rng.choice(["open", "acknowledged", "resolved", "resolved"]),
                        "created_at": started,
                        "delivery_status": "delivered",
                        "delivery_attempts": 1,
                    }
                )
    with engine.begin() as connection:
        connection.execute(insert(Conversation.__table__), conversations)
        connection.execute(insert(Message.__table__), messages)
        connection.execute(insert(Alert.__table__), alerts)
    engine.dispose()
    return alerts[0]["conversation_id"]


def timed(client: httpx.Client, path: str) -> dict[str, float]:
    client.get(path).raise_for_status()  # warm-up
    latencies = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(path)
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    latencies.sort()
    return {
        "median_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1),
    }


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="triage-bench-dashboard-"))
    url = f"sqlite+aiosqlite:///{folder}/bench.db"
    env = {**os.environ, "DATABASE_URL": url, "TRIAGE_LOG_LEVEL": "WARNING"}
    upgrade(url)
    started = time.perf_counter()
    conversation_id = seed(f"sqlite:///{folder}/bench.db")
    seeded_s = time.perf_counter() - started
    triagebot = Path(sys.executable).with_name("triagebot")
    subprocess.run(
        [triagebot, "coordinator", "add", "bench", "--password-stdin"],
        input="benchmark password\n", text=True, env=env, check=True, capture_output=True,
    )  # fmt: skip
    token = subprocess.run(
        [triagebot, "coordinator", "token", "bench"],
        text=True, env=env, check=True, capture_output=True,
    ).stdout.strip()  # fmt: skip
    process, base = serve("app.main:create_app", env)
    requests = {
        "alert queue (active)": "/api/coordinator/alerts",
        "conversations, page 1": "/api/coordinator/conversations",
        "conversations, level=urgent, page 40": (
            "/api/coordinator/conversations?level=urgent&page=40"
        ),
        "conversations, alert_status=open": "/api/coordinator/conversations?alert_status=open",
        "conversations, text search": "/api/coordinator/conversations?q=yellow",
        "CSV export, alert_status=open": "/api/coordinator/conversations.csv?alert_status=open",
        "conversations, review=needs_review": "/api/coordinator/conversations?review=needs_review",
        "conversations, category=liver": "/api/coordinator/conversations?category=liver",
        "transcript": f"/api/coordinator/conversations/{conversation_id}",
        "insight, last 30 days": "/api/coordinator/insight",
        "insight, 90 days": (
            f"/api/coordinator/insight?since={(datetime.now(UTC) - timedelta(days=89)).date()}"
        ),
    }
    try:
        with httpx.Client(
            base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            results = {name: timed(client, path) for name, path in requests.items()}
    finally:
        process.terminate()
        process.wait(timeout=10)
    print(
        json.dumps(
            {
                "conversations": CONVERSATIONS,
                "messages": CONVERSATIONS * MESSAGES_PER_CONVERSATION,
                "seed_s": round(seeded_s, 1),
                "requests": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
