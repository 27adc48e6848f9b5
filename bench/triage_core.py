"""Benchmark of the triage core (NLU + engine) on one core: messages/s, median and p99.

Run with `make bench`. Uses the repo's labelled messages (and the shared dev set when it
is beside the repo), each triaged many times after a warm-up.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    ROOT / "nlu_data/en/labelled/triage-en.jsonl",
    ROOT.parent / "shared/dev-set/messages-en.jsonl",
]
ROUNDS = 5


def load_messages() -> list[str]:
    messages = []
    for path in SOURCES:
        if path.exists():
            messages += [
                json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()
            ]
    return messages


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    started = time.perf_counter()
    from app.triager import Triager

    triager = Triager()
    load_seconds = time.perf_counter() - started
    messages = load_messages()
    for text in messages:  # warm-up: caches, lazy imports
        triager.assess(text, "en")

    # Distinct texts each round defeat the per-word caches only partly; clear them to time
    # cold words too on the first round.
    latencies = []
    begin = time.perf_counter()
    for _ in range(ROUNDS):
        for text in messages:
            t0 = time.perf_counter_ns()
            triager.assess(text, "en")
            latencies.append((time.perf_counter_ns() - t0) / 1e6)
    total = time.perf_counter() - begin
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    result = {
        "messages": len(latencies),
        "model_load_s": round(load_seconds, 2),
        "messages_per_s": round(len(latencies) / total, 1),
        "median_ms": round(statistics.median(latencies), 3),
        "p99_ms": round(p99, 3),
        "max_ms": round(latencies[-1], 3),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
