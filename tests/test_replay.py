"""The replay runner's own tests: passing fixture, each kind of failure with its diff,
malformed fixtures with their line, --url against a real server, JUnit parsed back."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from app.dialogue.domain import default_domain
from app.replay.fixtures import FixtureError, FixtureLoader
from app.replay.runner import in_process_client, replay, write_junit
from app.triage.protocol import default_protocol
from tests.conftest import free_port

LOADER = FixtureLoader(default_protocol(), set(default_domain().responses))


def write(tmp_path: Path, text: str, name: str = "f.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


PASSING = """
fixture: jaundice is urgent
turns:
  - user: "my eyes look kind of yellow"
    expect:
      level: urgent
      categories: [liver]
      utter: [utter_urgent_stop_dose]
      bot_contains: ["prescriber"]
"""


async def run_file(triager, path: Path):
    [fixture] = LOADER.load_file(path)
    async with in_process_client(triager) as http:
        return await replay(fixture, http)


async def test_a_passing_fixture(triager, tmp_path):
    result = await run_file(triager, write(tmp_path, PASSING))
    assert result.passed and result.turns[0].failures == []


@pytest.mark.parametrize(
    ("expect", "diff_line"),
    [
        ("level: emergency", "level: expected emergency, got urgent"),
        ("categories: [pml]", "categories: expected all of ['pml'], missing ['pml']"),
        (
            "categories_any: [eye, herpes]",
            "categories_any: expected one of ['eye', 'herpes'], got ['liver']",
        ),
        (
            "asks: infusion_window",
            "asks: expected the bot to ask infusion_window, it asked nothing",
        ),
        ("utter: [utter_emergency]", "utter: expected ['utter_emergency'] among the responses"),
        ('bot_contains: ["call 999"]', "bot_contains: 'call 999' not in the bot's messages"),
        (
            'bot_not_contains: ["prescriber"]',
            "bot_not_contains: 'prescriber' found in the bot's messages",
        ),
    ],
)
async def test_each_kind_of_failure_has_a_readable_diff(triager, tmp_path, expect, diff_line):
    text = f"""
    fixture: jaundice check
    turns:
      - user: "my eyes look kind of yellow"
        expect:
          {expect}
    """
    path = write(tmp_path, text)
    result = await run_file(triager, path)
    assert not result.passed
    diff = result.diff()
    assert diff.startswith("FAIL jaundice check (")
    line = result.turns[0].turn.line
    assert "user:" in path.read_text().splitlines()[line - 1]
    assert f"f.yml:{line}): user: 'my eyes look kind of yellow'" in diff
    assert diff_line in diff
    assert "decided: level=urgent categories=['liver']" in diff
    assert "| Do not take your next natalizumab dose" in diff


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "fixture: x\nturns:\n  - user: hi\n    expect:\n      levle: none\n",
            "f.yml:5: unknown expectation 'levle'",
        ),
        (
            "fixture: x\nturns:\n  - user: hi\n    expect:\n      level: soon\n",
            "f.yml:5: unknown level 'soon'",
        ),
        (
            "fixture: x\nturns:\n  - user: hi\n    expect:\n      categories: [livr]\n",
            "f.yml:5: unknown category 'livr'",
        ),
        (
            "fixture: x\nturns:\n  - user: hi\n    expect:\n      utter: [utter_nope]\n",
            "f.yml:5: unknown response 'utter_nope'",
        ),
        ("fixture: x\nturnz: []\n", "f.yml:2: unknown key 'turnz'"),
        ("fixture: x\nturns: [\n", "f.yml:"),
        ("fixture: x\n", "f.yml:1: missing 'turns'"),
        ("fixture: ''\nturns:\n  - user: hi\n", "f.yml:1: 'fixture' must be a name"),
    ],
)
def test_malformed_fixtures_name_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(FixtureError, match=message.replace("[", r"\[")):
        LOADER.load_file(path)


def test_a_fixture_without_a_name_is_named_by_its_place(tmp_path):
    path = write(tmp_path, "turns:\n  - user: hi\n    expect:\n      level: none\n")
    assert [f.name for f in LOADER.load_file(path)] == ["f #1"]


def test_several_fixtures_per_file(tmp_path):
    path = write(tmp_path, PASSING + "---\n" + PASSING.replace("jaundice is urgent", "again"))
    assert [f.name for f in LOADER.load_file(path)] == ["jaundice is urgent", "again"]
    second = LOADER.load_file(path)[1]
    assert path.read_text().splitlines()[second.line - 1] == "fixture: again"


def test_cli_replays_against_a_running_server_and_writes_junit(tmp_path):
    fixture = write(tmp_path, PASSING)
    failing = write(tmp_path, PASSING.replace("level: urgent", "level: emergency"), "g.yml")
    port = free_port()
    secret = "replay-token-0123456789abcdef"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/server.db",
        "TRIAGE_REST_CHANNEL": "token",
        "TRIAGE_REST_TOKEN": secret,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        triagebot = str(Path(sys.executable).with_name("triagebot"))
        junit = tmp_path / "out" / "junit.xml"
        command = [triagebot, "replay", str(fixture), str(failing), "--url", url]
        refused = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert refused.returncode == 1 and "HTTP 401" in refused.stdout  # no token, no turn
        done = subprocess.run(
            [*command, "--token", secret, "--junit", str(junit)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr
        assert "1 passed, 1 failed" in done.stdout
        assert "level: expected emergency, got urgent" in done.stdout
        suite = ET.parse(junit).getroot()
        assert suite.get("tests") == "2" and suite.get("failures") == "1"
        cases = {case.get("classname"): case for case in suite.iter("testcase")}
        assert cases[str(failing)].find("failure") is not None
        assert cases[str(fixture)].find("failure") is None
    finally:
        server.terminate()
        server.wait(timeout=10)


async def test_junit_round_trip(triager, tmp_path):
    result = await run_file(triager, write(tmp_path, PASSING))
    write_junit([result], tmp_path / "j.xml")
    suite = ET.parse(tmp_path / "j.xml").getroot()
    assert suite.get("failures") == "0"
    assert [c.get("name") for c in suite.iter("testcase")] == ["jaundice is urgent"]


async def _conversation_on_disk(triager, database: Path) -> str:
    """A stored conversation made through the real REST channel; returns its id."""
    from sqlalchemy import select

    from app.store.models import Conversation
    from tests.conftest import running_app

    async with running_app(triager, f"sqlite+aiosqlite:///{database}") as (app, http):
        for text in ("I've got hives all over", "yes still on the drip", "thanks"):
            response = await http.post(
                "/webhooks/rest/webhook", json={"sender": "p1", "message": text}
            )
            assert response.status_code == 200
        async with app.state.conversations.sessionmaker() as session:
            return await session.scalar(select(Conversation.id))


def _cli(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    triagebot = str(Path(sys.executable).with_name("triagebot"))
    return subprocess.run([triagebot, *args], capture_output=True, text=True, timeout=120, env=env)


async def test_export_fixture_round_trips_through_replay(triager, tmp_path):
    database = tmp_path / "stored.db"
    conversation_id = await _conversation_on_disk(triager, database)
    out = tmp_path / "exported.yml"
    done = _cli("export-fixture", conversation_id, "--output", str(out), database=database)
    assert done.returncode == 0, done.stderr
    [fixture] = LOADER.load_file(out)
    assert [t.user for t in fixture.turns] == [
        "I've got hives all over",
        "yes still on the drip",
        "thanks",
    ]
    assert fixture.turns[1].expect.level == "emergency"
    assert fixture.turns[1].expect.categories_any == ["infusion_reaction"]
    assert "utter_emergency_infusion" in fixture.turns[1].expect.utter
    assert fixture.turns[2].expect.level == "emergency"
    async with in_process_client(triager) as http:
        assert (await replay(fixture, http)).passed
    missing = _cli("export-fixture", "nope", database=database)
    assert missing.returncode == 2 and "no conversation" in missing.stderr


async def test_transcripts_recheck_lists_conversations_whose_level_would_change(triager, tmp_path):
    import sqlite3

    database = tmp_path / "stored.db"
    conversation_id = await _conversation_on_disk(triager, database)
    same = _cli("replay", "--transcripts", database=database)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "1 conversations re-run: 0 lower, 0 higher" in same.stdout
    # Pretend an older build had decided "urgent" for the whole conversation: now higher.
    with sqlite3.connect(database) as db:
        db.execute("update conversations set level = 'urgent' where id = ?", (conversation_id,))
    higher = _cli("replay", "--transcripts", "--since", "2020-01-01", database=database)
    assert higher.returncode == 0 and "0 lower, 1 higher" in higher.stdout
    # ... or "emergency" where the current build would say less: listed as LOWER, exit 1.
    with sqlite3.connect(database) as db:
        db.execute("update messages set text = 'hello' where role = 'patient'")
        db.execute("update conversations set level = 'emergency' where id = ?", (conversation_id,))
    lower = _cli("replay", "--transcripts", database=database)
    assert lower.returncode == 1 and "1 lower, 0 higher" in lower.stdout
    assert conversation_id in lower.stdout
