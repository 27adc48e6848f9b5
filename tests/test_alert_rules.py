"""One alert per conversation, as pure rules: raise, escalate, update, repeat."""

from __future__ import annotations

import pytest

from app.alerts.rules import OpenAlert, alert_change
from app.triage.protocol import default_protocol

PROTOCOL = default_protocol()


def change(level, categories=(), handoff=False, current=None):
    return alert_change(
        level=level,
        categories=list(categories),
        handoff=handoff,
        current=current,
        protocol=PROTOCOL,
    )


def open_alert(severity="high", level="urgent", categories=("liver",)):
    return OpenAlert(severity, level, level, tuple(categories))


@pytest.mark.parametrize("level", ["routine", "info", "none"])
def test_no_alert_below_urgent(level):
    assert change(level, ["common_side_effect"]) is None
    assert change(level, current=open_alert()) is None


def test_the_first_red_flag_or_request_raises():
    assert change("urgent", ["liver"]).kind == "raised"
    assert change("emergency", ["anaphylaxis"]).severity == "critical"
    handoff = change("none", handoff=True)
    assert (handoff.kind, handoff.severity, handoff.reason) == ("raised", "normal", "handoff")


def test_a_higher_level_escalates_and_goes_back_to_the_queue():
    escalated = change("emergency", ["infusion_reaction"], current=open_alert())
    assert (escalated.kind, escalated.severity, escalated.reopen) == ("escalated", "critical", True)
    assert escalated.categories == ["liver", "infusion_reaction"]
    assert change("urgent", ["liver"], current=open_alert("normal", "none", ())).kind == (
        "escalated"
    )


def test_a_lower_level_never_lowers_the_alert():
    kept = change("urgent", ["liver"], current=open_alert("critical", "emergency", ["anaphylaxis"]))
    assert (kept.kind, kept.severity, kept.level) == ("updated", "critical", "emergency")


def test_new_signs_update_and_the_same_again_is_a_repeat():
    assert change("urgent", ["bleeding"], current=open_alert()).kind == "updated"
    repeat = change("urgent", ["liver"], current=open_alert())
    assert (repeat.kind, repeat.reopen) == ("repeated", True)  # a red flag again: re-queued
    asked = change("none", handoff=True, current=open_alert())
    assert (asked.kind, asked.reopen, asked.severity) == ("updated", True, "high")
