"""What a turn does to the conversation's alert (pure).

One open alert per conversation, like an incident: the first red flag (or a request for a
person) raises it; a higher level escalates it (and puts it back in the queue if it was
acknowledged); a new red-flag category updates it; a repeat is recorded (a red flag
reported again also puts it back in the queue). After a
coordinator resolves it, the next red flag raises a new one, so whenever the bot tells a
patient that the care team has been alerted, an open alert exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.triage.protocol import Protocol

ACTIVE = ("open", "acknowledged")  # statuses of an alert still to handle

Kind = Literal["raised", "escalated", "updated", "repeated"]


@dataclass(frozen=True)
class OpenAlert:
    """The conversation's alert still to handle, as the rules need it."""

    severity: str
    reason: str
    level: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class AlertChange:
    kind: Kind
    severity: str
    reason: str  # emergency, urgent or handoff
    level: str
    categories: list[str]
    reopen: bool = False  # an acknowledged alert goes back to the queue


def alert_change(
    *,
    level: str,
    categories: list[str],
    handoff: bool,
    current: OpenAlert | None,
    protocol: Protocol,
) -> AlertChange | None:
    """The change this turn makes to the conversation's alert, or None."""
    red = protocol.is_red(level)
    if red:
        severity = protocol.alert_severity(level) or protocol.handoff_alert_severity
        reason = level
    elif handoff:
        severity, reason = protocol.handoff_alert_severity, "handoff"
    else:
        return None
    if current is None:
        return AlertChange("raised", severity, reason, level, list(categories))

    rank = protocol.severity_rank
    merged = list(dict.fromkeys([*current.categories, *categories]))
    if rank[severity] < rank[current.severity]:
        return AlertChange("escalated", severity, reason, level, merged, reopen=True)
    top_level = protocol.higher(current.level, level)
    if len(merged) > len(current.categories) or (handoff and current.reason != "handoff"):
        # New red-flag signs, or now asking for a person: back to the queue.
        return AlertChange("updated", current.severity, current.reason, top_level, merged, True)
    # The same again: recorded; a red flag reported again goes back to the queue too.
    return AlertChange("repeated", current.severity, current.reason, top_level, merged, red)
