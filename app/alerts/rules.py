"""Which turns raise an alert for the care coordinators (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from app.triage.protocol import LEVEL_RANK, Protocol

SEVERITY = {"emergency": "critical", "urgent": "high", "handoff": "normal"}
SEVERITY_RANK = {"critical": 0, "high": 1, "normal": 2}
RED_LEVELS = ("emergency", "urgent")


@dataclass(frozen=True)
class NewAlert:
    severity: str
    reason: str
    level: str
    categories: list[str]


def alerts_for_turn(
    *,
    level: str,
    categories: list[str],
    previous_level: str,
    alerted: list[str],
    handoff: bool,
    protocol: Protocol,
) -> list[NewAlert]:
    """An urgent/emergency turn alerts when it raises the conversation's level or reports a
    red-flag category not alerted before; a handoff request always alerts."""
    alerts = []
    if level in RED_LEVELS:
        red = [
            c for c in categories if c in protocol.categories and protocol.level_of(c) in RED_LEVELS
        ]
        raised = LEVEL_RANK[level] > LEVEL_RANK[previous_level]
        if raised or any(c not in alerted for c in red):
            alerts.append(NewAlert(SEVERITY[level], level, level, list(categories)))
    if handoff:
        alerts.append(NewAlert(SEVERITY["handoff"], "handoff", level, list(categories)))
    return alerts
