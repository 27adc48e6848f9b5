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
SOURCES = {
    "en": [
        ROOT / "labelled/en/triage-en.jsonl",
        ROOT.parent / "shared/dev-set/messages-en.jsonl",
    ],
    "zh": [
        *sorted((ROOT / "labelled/zh").glob("*.jsonl")),
        ROOT.parent / "shared/dev-set/messages-zh.jsonl",
    ],
}
ROUNDS = 5


def load_messages(lang: str = "en") -> list[str]:
    messages = []
    for path in SOURCES[lang]:
        if path.exists():
            messages += [
                json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()
            ]
    return messages


def measure(triager, lang: str) -> dict[str, float]:
    messages = load_messages(lang)
    for text in messages:  # warm-up: caches, lazy imports
        triager.assess(text, lang)
    latencies = []
    begin = time.perf_counter()
    for _ in range(ROUNDS):
        for text in messages:
            t0 = time.perf_counter_ns()
            triager.assess(text, lang)
            latencies.append((time.perf_counter_ns() - t0) / 1e6)
    total = time.perf_counter() - begin
    latencies.sort()
    return {
        "messages": len(latencies),
        "messages_per_s": round(len(latencies) / total, 1),
        "median_ms": round(statistics.median(latencies), 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 3),
        "max_ms": round(latencies[-1], 3),
    }


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    started = time.perf_counter()
    from app.triager import Triager

    triager = Triager()
    load_seconds = time.perf_counter() - started
    result: dict[str, object] = {"model_load_s": round(load_seconds, 2)}
    # What each language's model costs on its own: built from its data (a first start, or
    # after a data change), and loaded from the model cache (every other start).
    from app.nlu.model_cache import CACHE_ENV
    from app.nlu.pipeline import NLU
    from app.triager import thresholds_of

    cache_setting = os.environ.get(CACHE_ENV)
    for lang in triager.nlu.models:
        for label, setting in (("build", "off"), ("cached", cache_setting)):
            if setting is None:
                os.environ.pop(CACHE_ENV, None)
            else:
                os.environ[CACHE_ENV] = setting
            began = time.perf_counter()
            NLU(
                concepts=frozenset(triager.protocol.concepts),
                topics=frozenset(triager.protocol.info_topics),
                languages=(lang,),
                thresholds=thresholds_of(triager.protocol),
            )
            result[f"{lang}_model_{label}_s"] = round(time.perf_counter() - began, 2)
    for lang in triager.nlu.models:
        result[lang] = measure(triager, lang)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
