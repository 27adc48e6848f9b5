"""The `triagebot` console script, run as a real process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.nlu.training_data import LABELLED_DIR

TRIAGEBOT = shutil.which("triagebot") or str(Path(sys.executable).with_name("triagebot"))


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRIAGEBOT, *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_parse_prints_rasa_json():
    done = run("parse", "my nose won't stop bleeding")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["entities"][0]["value"] == "uncontrolled_bleeding"
    assert body["entities"][0]["negated"] is False


def test_parse_refuses_empty_text():
    done = run("parse", "   ")
    assert done.returncode == 2
    assert "empty" in done.stderr


def test_triage_jsonl_keeps_order_and_reports_bad_lines():
    lines = [
        json.dumps({"text": "my skin and the whites of my eyes have gone yellow"}),
        "{not json",
        json.dumps({"text": 42}),
        "",
        json.dumps({"text": "hi there", "lang": "en"}),
        json.dumps(["a list"]),
        json.dumps({"text": "x" * 100_000}),
        json.dumps({"text": "pretty tired since the last dose, otherwise fine"}),
    ]
    done = run("triage", "--jsonl", stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == len(lines)
    assert out[0]["level"] == "urgent" and out[0]["categories"] == ["liver"]
    assert "invalid JSON" in out[1]["error"] and out[1]["line"] == 2
    assert "must be a string" in out[2]["error"]
    assert "empty line" in out[3]["error"]
    assert out[4]["level"] == "none"
    assert "JSON object" in out[5]["error"]
    assert "limit" in out[6]["error"]
    assert out[7]["level"] == "routine"
    assert "4 line(s)" in done.stderr or "5 line(s)" in done.stderr


def _labelled(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_evaluate_passes_and_reports(tmp_path):
    path = _labelled(
        tmp_path,
        [
            {"text": "my eyes look kind of yellow", "level": "urgent", "categories": ["liver"]},
            {"text": "hi there", "level": "none", "categories": []},
        ],
    )
    done = run("evaluate", str(path), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["exact_level"] == 1.0 and report["under_triaged"] == []
    assert report["confusion"]["urgent"]["urgent"] == 1


def test_evaluate_fails_on_under_triage_and_lists_it_first(tmp_path):
    # Labelled as an emergency on purpose: the bot says urgent, so this is "under-triaged".
    path = _labelled(
        tmp_path,
        [
            {"text": "hi there", "level": "none", "categories": []},
            {"text": "my eyes look kind of yellow", "level": "emergency", "categories": ["liver"]},
        ],
    )
    done = run("evaluate", str(path))
    assert done.returncode == 1
    first_lines = done.stdout.splitlines()[:3]
    assert any("UNDER-TRIAGED RED FLAGS: 1" in line for line in first_lines)
    assert "line 2" in done.stdout


def test_evaluate_min_exact(tmp_path):
    path = _labelled(tmp_path, [{"text": "hi there", "level": "info", "categories": []}])
    assert run("evaluate", str(path)).returncode == 0
    assert run("evaluate", str(path), "--min-exact", "0.95").returncode == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [("{oops", "invalid JSON"), ('{"text": "x", "level": "soon"}', "'level' must be one of")],
)
def test_evaluate_refuses_malformed_files(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content + "\n", encoding="utf-8")
    done = run("evaluate", str(path))
    assert done.returncode == 2
    assert message in done.stderr and "bad.jsonl:1" in done.stderr


def test_db_upgrade_creates_the_schema(tmp_path):
    import os
    import sqlite3

    database = tmp_path / "cli.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    done = subprocess.run(
        [TRIAGEBOT, "db", "upgrade"], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    tables = {row[0] for row in sqlite3.connect(database).execute("select name from sqlite_master")}
    assert {"conversations", "messages", "alerts", "alert_deliveries", "alembic_version"} <= tables


def test_coordinator_accounts_and_tokens(tmp_path):
    import os
    import sqlite3

    database = tmp_path / "accounts.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}"}

    def coordinator(*args: str, stdin: str = ""):
        return subprocess.run(
            [TRIAGEBOT, "coordinator", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )

    added = coordinator("add", "alice", "--password-stdin", stdin="correct horse battery\n")
    assert added.returncode == 0, added.stderr
    again = coordinator("add", "alice", "--password-stdin", stdin="correct horse battery\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    short = coordinator("add", "bob", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    bad_name = coordinator("add", "Bob Smith", "--password-stdin", stdin="long enough pass\n")
    assert bad_name.returncode == 2 and "username" in bad_name.stderr
    stored = sqlite3.connect(database).execute("select username, password_hash from coordinators")
    (username, password_hash), *rest = stored.fetchall()
    assert username == "alice" and rest == []
    assert password_hash.startswith("$argon2") and "correct horse" not in password_hash
    token = coordinator("token", "alice", "--days", "30")
    assert token.returncode == 0 and token.stdout.strip().startswith("tbc_")
    unknown = coordinator("token", "nobody")
    assert unknown.returncode == 2 and "no coordinator" in unknown.stderr
    tokens = "select count(*) from api_tokens"
    assert sqlite3.connect(database).execute(tokens).fetchone() == (1,)
    changed = coordinator("password", "alice", "--password-stdin", stdin="another long secret\n")
    assert changed.returncode == 0, changed.stderr
    # A new password revokes the API tokens made with the old one (issue 12, item 10).
    assert sqlite3.connect(database).execute(tokens).fetchone() == (0,)
    promoted = coordinator("role", "alice", "admin")
    assert promoted.returncode == 0, promoted.stderr
    roles = "select role from coordinators where username = 'alice'"
    assert sqlite3.connect(database).execute(roles).fetchone() == ("admin",)
    last = coordinator("role", "alice", "coordinator")
    assert last.returncode == 2 and "last active admin" in last.stderr
    unknown_role = coordinator("role", "alice", "boss")
    assert unknown_role.returncode == 2 and "role must be one of" in unknown_role.stderr


def test_leave_one_set_out_scores_each_set_with_a_net_that_never_saw_it(tmp_path, triager):
    """A safety net trained on the other sets only; the shipped net is put back after."""
    from app.evaluation import leave_one_set_out

    source = sorted((LABELLED_DIR / "en").glob("*-en.jsonl"))[:3]
    for path in source:
        lines = path.read_text(encoding="utf-8").splitlines()[:40]
        (tmp_path / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    shipped = triager.nlu.models["en"].safety_net
    scores = leave_one_set_out(triager, tmp_path)
    assert triager.nlu.models["en"].safety_net is shipped
    assert [s.name for s in scores] == [p.stem for p in source]
    for score, path in zip(scores, source, strict=True):
        red = sum(
            '"level": "urgent"' in line or '"level": "emergency"' in line
            for line in path.read_text(encoding="utf-8").splitlines()[:40]
        )
        assert score.messages == 40 and score.red_flags == red
        assert score.under_with_net <= score.red_flags and 0 <= score.exact_with_net <= 1


def test_evaluate_needs_a_file_or_leave_one_out():
    done = subprocess.run([TRIAGEBOT, "evaluate"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--leave-one-out" in done.stderr
