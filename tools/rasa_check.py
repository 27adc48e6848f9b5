"""`make rasa-check`: this project as a Rasa user runs it, compared with our own dialogue.

With Rasa Open Source 3.6 in its own environment (.venv-rasa, made by the Makefile):
validate the project (`rasa data validate --fail-on-warnings`), train it, serve it with
`rasa run` and our action server (`triagebot serve`, /webhook), then replay every
conversation fixture (tests/conversations) through Rasa's REST channel and through our
own, comparing the conversation's level after every turn. Every difference is listed; it
fails below 95% of fixtures alike, or on any validator warning.

    .venv/bin/python -m tools.rasa_check [--rasa .venv-rasa/bin/rasa] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.dialogue.domain import default_domain
from app.replay.fixtures import Fixture, FixtureLoader
from app.replay.runner import Observed
from app.triage.protocol import default_protocol
from bench.compose_local import running, start, wait
from bench.rest_channel import free_port

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "conversations"
DATA = ["nlu_data", "data"]
FLOOR = 0.95  # the bar: fixtures whose levels agree turn by turn
# Rasa's own parse (/model/parse) must find these symptoms with our component.
PARSES = {
    "I've got hives all over": "hives",
    "temperature of 38.5": "fever",
    "我的皮肤发黄了": "jaundice",
}


@dataclass
class Comparison:
    fixture: Fixture
    ours: list[str] = field(default_factory=list)
    rasa: list[str] = field(default_factory=list)
    # What the patient read after each turn (texts in order), for the wording comparison.
    ours_said: list[list[str]] = field(default_factory=list)
    rasa_said: list[list[str]] = field(default_factory=list)
    error: str = ""

    @property
    def alike(self) -> bool:
        return not self.error and self.ours == self.rasa

    @property
    def same_words(self) -> bool:
        return not self.error and self.ours_said == self.rasa_said


def step(what: str) -> None:
    print(f"[rasa-check {time.strftime('%H:%M:%S')}] {what}", flush=True)


def rasa_environment(cache: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TRIAGE_MODEL_CACHE": str(cache),  # Rasa's numpy differs from ours: its own cache
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }


def validate(rasa: str, env: dict[str, str], log: Path) -> list[str]:
    """Rasa's validator over the project; the warnings it printed (none is the bar)."""
    command = [rasa, "data", "validate", "--fail-on-warnings", "--data", *DATA]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    output = done.stdout + done.stderr
    log.write_text(output, encoding="utf-8")
    warnings = [line.strip() for line in output.splitlines() if "UserWarning" in line]
    if done.returncode != 0 and not warnings:
        warnings.append(f"rasa data validate exited {done.returncode} (see {log})")
    return warnings


def train(rasa: str, env: dict[str, str], out: Path, log: Path) -> Path:
    command = [rasa, "train", "--data", *DATA, "--out", str(out), "--fixed-model-name", "triage"]
    with log.open("w", encoding="utf-8") as sink:
        subprocess.run(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, check=True
        )
    return out / "triage.tar.gz"


def _wait_for(process: subprocess.Popen, url: str, what: str) -> None:
    """Until `url` answers 200 (an error at once if the server exited instead)."""
    wait(lambda: running(process, what) and httpx.get(url, timeout=2).status_code == 200,
         what, timeout=180)  # fmt: skip


async def conversation(
    http: httpx.AsyncClient, fixture: Fixture, tracker_level: bool
) -> tuple[list[str], list[list[str]]]:
    """The conversation's level after each turn (from our reply's triage summary, or from
    the Rasa tracker's `conversation_level` slot), and the texts the patient read."""
    sender = f"rasa-check-{uuid.uuid4().hex[:12]}"
    levels, said = [], []
    for turn in fixture.turns:
        reply = await http.post(
            "/webhooks/rest/webhook", json={"sender": sender, "message": turn.user}
        )
        reply.raise_for_status()
        messages = reply.json()
        said.append([m["text"] for m in messages if m.get("text")])
        if tracker_level:
            tracker = (await http.get(f"/conversations/{sender}/tracker")).json()
            levels.append(tracker["slots"].get("conversation_level") or "none")
        else:
            levels.append(Observed.from_reply(messages).conversation_level)
    return levels, said


async def compare(fixtures: list[Fixture], ours_url: str, rasa_url: str) -> list[Comparison]:
    results = []
    async with (
        httpx.AsyncClient(base_url=ours_url, timeout=60) as ours,
        httpx.AsyncClient(base_url=rasa_url, timeout=60) as rasa,
    ):
        for number, fixture in enumerate(fixtures, 1):
            result = Comparison(fixture)
            try:
                result.ours, result.ours_said = await conversation(ours, fixture, False)
                result.rasa, result.rasa_said = await conversation(rasa, fixture, True)
            except (httpx.HTTPError, KeyError, ValueError) as error:
                result.error = f"{type(error).__name__}: {error}"
            results.append(result)
            if number % 25 == 0:
                step(f"replayed {number} of {len(fixtures)} fixtures")
    return results


def check_parses(rasa_url: str) -> list[str]:
    """Rasa's parse of a few messages: the symptom entities our component finds (with
    their context flags); a line for each one missing."""
    missing = []
    for text, concept in PARSES.items():
        parse = httpx.post(f"{rasa_url}/model/parse", json={"text": text}, timeout=30).json()
        found = {e["value"] for e in parse.get("entities", []) if e.get("entity") == "symptom"}
        flags = [e.get("negated") for e in parse.get("entities", [])]
        print(f"  Rasa's parse of {text!r}: intent {parse['intent']['name']}, symptoms "
              f"{sorted(found)}, negated {flags}")  # fmt: skip
        if concept not in found:
            missing.append(f"{text!r}: no {concept} entity")
    return missing


def report(results: list[Comparison], warnings: list[str]) -> bool:
    alike = sum(r.alike for r in results)
    share = alike / len(results) if results else 0.0
    for result in results:
        if result.alike:
            continue
        print(f"  DIFFERENT {result.fixture.location} {result.fixture.name!r}")
        if result.error:
            print(f"    error: {result.error}")
        for turn, ours, rasa in zip(result.fixture.turns, result.ours, result.rasa, strict=False):
            mark = "  " if ours == rasa else "≠ "
            print(f"    {mark}{turn.user[:60]!r}: ours {ours}, Rasa {rasa}")
    worded = [r for r in results if r.alike and not r.same_words]
    for result in worded:
        pairs = zip(result.ours_said, result.rasa_said, strict=True)
        turn = next(i for i, (ours, rasa) in enumerate(pairs) if ours != rasa)
        where = f"{result.fixture.location} {result.fixture.name!r}, turn {turn + 1}"
        print(f"  worded differently {where}")
        print(f"    ours: {' | '.join(t[:50] for t in result.ours_said[turn])}")
        print(f"    Rasa: {' | '.join(t[:50] for t in result.rasa_said[turn])}")
    print(
        f"same levels and the same words: {len(results) - len(worded) - (len(results) - alike)}"
        f" of {len(results)} fixtures (shown, not gated)"
    )
    print(f"validator warnings: {len(warnings)}")
    for warning in warnings:
        print(f"  {warning}")
    print(
        f"fixtures with the same levels through Rasa as through our dialogue: "
        f"{alike} of {len(results)} ({share:.1%}; the bar is {FLOOR:.0%})"
    )
    return share >= FLOOR and not warnings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa", default=str(ROOT / ".venv-rasa" / "bin" / "rasa"))
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, model)")
    args = parser.parse_args()
    fixtures = FixtureLoader(default_protocol(), set(default_domain().responses)).load_paths(
        [FIXTURES]
    )
    work = Path(tempfile.mkdtemp(prefix="rasa-check-"))
    env = rasa_environment(work / "model-cache")
    passed = False
    stack = ExitStack()  # the servers, stopped in reverse order of start
    try:
        step("rasa data validate --fail-on-warnings")
        warnings = validate(args.rasa, env, work / "validate.log")
        step(f"rasa train (log: {work / 'train.log'})")
        model = train(args.rasa, env, work / "models", work / "train.log")

        ours_port, rasa_port = free_port(), free_port()
        ours_url, rasa_url = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{rasa_port}"
        ours_env = {
            **os.environ,
            "TRIAGE_DATABASE_URL": f"sqlite+aiosqlite:///{work}/triage.db",
            "TRIAGE_REST_CHANNEL": "open",
            "TRIAGE_RATE_LIMIT_MESSAGES": "100000/minute",
            "TRIAGE_RATE_LIMIT_MESSAGES_PER_CONVERSATION": "100000/minute",
            "TRIAGE_RATE_LIMIT_CONVERSATIONS": "100000/minute",
        }
        triagebot = str(Path(sys.executable).parent / "triagebot")
        step(f"triagebot serve on port {ours_port} (our dialogue, and the action server)")
        serve = [triagebot, "serve", "--host", "127.0.0.1", "--port", str(ours_port)]
        ours = start(stack, serve, work / "triagebot.log", cwd=ROOT, env=ours_env)
        _wait_for(ours, f"{ours_url}/healthz", "triagebot serve")

        endpoints = work / "endpoints.yml"
        endpoints.write_text(f'action_endpoint:\n  url: "{ours_url}/webhook"\n', encoding="utf-8")
        step(f"rasa run on port {rasa_port} (log: {work / 'rasa.log'})")
        run = [args.rasa, "run", "--enable-api", "--model", str(model), "--port", str(rasa_port),
               "--endpoints", str(endpoints), "--credentials", "credentials.yml"]  # fmt: skip
        rasa = start(stack, run, work / "rasa.log", cwd=ROOT, env=env)
        _wait_for(rasa, f"{rasa_url}/status", "rasa run")

        step("Rasa's /model/parse with our NLU component")
        missing = check_parses(rasa_url)
        step(f"replaying {len(fixtures)} fixtures through both")
        results = asyncio.run(compare(fixtures, ours_url, rasa_url))
        passed = report(results, warnings) and not missing
        for line in missing:
            print(f"  MISSING in Rasa's parse: {line}")
    finally:
        stack.close()
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("rasa-check:", "PASSED" if passed else "FAILED")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
