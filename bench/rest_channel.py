"""Benchmark of whole turns through the REST channel (real HTTP, uvicorn, SQLite file),
with a bare FastAPI endpoint measured in the same run as the reference.

Run with `make bench`. Each server runs in its own process on 127.0.0.1; the client sends
turns one after another (conversations of 6 turns mixing red flags, routine symptoms,
questions and small talk).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

TURNS = [
    "hi there",
    "I've got hives all over",
    "yes still on the drip",
    "pretty tired since the last dose, otherwise fine",
    "how often do I get the infusion?",
    "thanks",
]
CONVERSATIONS = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(target: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--log-level", "warning",
         *(["--factory"] if target.endswith("create_app") else [])],
        env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if (
                httpx.get(
                    url + ("/healthz" if "create_app" in target else "/docs"), timeout=1
                ).status_code
                == 200
            ):
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{target} did not start")


def run(url: str) -> dict[str, float]:
    latencies = []
    with httpx.Client(base_url=url, timeout=10) as client:
        client.post("/webhooks/rest/webhook", json={"sender": "warm-up", "message": "hello"})
        started = time.perf_counter()
        for n in range(CONVERSATIONS):
            for text in TURNS:
                t0 = time.perf_counter()
                response = client.post(
                    "/webhooks/rest/webhook", json={"sender": f"bench-{n}", "message": text}
                )
                latencies.append((time.perf_counter() - t0) * 1000)
                response.raise_for_status()
        total = time.perf_counter() - started
    latencies.sort()
    return {
        "turns": len(latencies),
        "turns_per_s": round(len(latencies) / total, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
    }


def main() -> None:
    folder = tempfile.mkdtemp(prefix="triage-bench-")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.db",
        "TRIAGE_LOG_LEVEL": "WARNING",
        "TRIAGE_REST_CHANNEL": "open",  # a benchmark on loopback; off by default
    }
    results = {}
    for name, target in (
        ("service", "app.main:create_app"),
        ("bare_fastapi", "bench.bare_app:app"),
    ):
        process, url = serve(target, env)
        try:
            results[name] = run(url)
        finally:
            process.terminate()
            process.wait(timeout=10)
    results["p50_ratio"] = round(
        results["service"]["p50_ms"] / results["bare_fastapi"]["p50_ms"], 1
    )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
