"""Insight for a date range: alerts per day by severity, time to acknowledge and resolve
per week (median and 90th percentile), patient turns per day by level, the categories
alerted, and the share of turns the bot did not understand. Counted in the database
(grouped by day) or over the range's alerts; no patient text is read."""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.conversations.service import aware
from app.store.models import Alert, Message

SEVERITIES = ("critical", "high", "normal")
LEVELS = ("emergency", "urgent", "routine", "info", "none")
MAX_DAYS = 366


@dataclass(frozen=True)
class Range:
    since: date
    until: date

    @property
    def days(self) -> list[date]:
        return [self.since + timedelta(days=n) for n in range((self.until - self.since).days + 1)]

    def bounds(self) -> tuple[datetime, datetime]:
        start = datetime.combine(self.since, time.min, tzinfo=UTC)
        return start, datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=UTC)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _p90(values: list[float]) -> float:
    """The nearest-rank 90th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (aware(end) - aware(start)).total_seconds() / 60


async def insight(session: AsyncSession, period: Range) -> dict[str, Any]:
    start, end = period.bounds()
    days = [day.isoformat() for day in period.days]
    alerts_by_day = {day: Counter() for day in days}
    categories: Counter[str] = Counter()
    waits: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"ack": [], "resolve": []})
    rows = await session.execute(
        select(
            Alert.created_at,
            Alert.severity,
            Alert.categories,
            Alert.acknowledged_at,
            Alert.resolved_at,
        ).where(Alert.created_at >= start, Alert.created_at < end)
    )
    for created, severity, alerted, acknowledged, resolved in rows:
        day = aware(created).date()
        alerts_by_day[day.isoformat()][severity] += 1
        categories.update(alerted or [])
        week = waits[_monday(day).isoformat()]
        for key, moment in (("ack", acknowledged), ("resolve", resolved)):
            minutes = _minutes(created, moment)
            if minutes is not None:
                week[key].append(minutes)

    day_of = func.date(Message.created_at)
    not_understood = Message.triage["needs_review"].as_string() == "not_understood"
    turns = await session.execute(
        select(
            day_of,
            Message.level,
            func.count(),
            func.sum(case((not_understood, 1), else_=0)),
        )
        .where(Message.role == "patient", Message.created_at >= start, Message.created_at < end)
        .group_by(day_of, Message.level)
    )
    turns_by_day = {day: Counter() for day in days}
    unrecognised = Counter()
    for day, level, count, puzzling in turns:
        key = str(day)[:10]
        if key in turns_by_day:
            turns_by_day[key][level or "none"] += count
            unrecognised[key] += puzzling or 0

    weeks = sorted({_monday(day).isoformat() for day in period.days})
    return {
        "since": period.since.isoformat(),
        "until": period.until.isoformat(),
        "days": [
            {
                "day": day,
                "alerts": {s: alerts_by_day[day][s] for s in SEVERITIES},
                "turns": {level: turns_by_day[day][level] for level in LEVELS},
                "not_understood": unrecognised[day],
                "not_understood_rate": (
                    round(unrecognised[day] / total, 4)
                    if (total := sum(turns_by_day[day].values()))
                    else None
                ),
            }
            for day in days
        ],
        "weeks": [
            {
                "week": week,
                **{
                    f"{name}_minutes_{stat}": (
                        round(function(waits[week][key]), 1) if waits[week][key] else None
                    )
                    for name, key in (("acknowledge", "ack"), ("resolve", "resolve"))
                    for stat, function in (("median", statistics.median), ("p90", _p90))
                },
                "alerts": sum(
                    sum(alerts_by_day[d.isoformat()].values())
                    for d in period.days
                    if _monday(d).isoformat() == week
                ),
            }
            for week in weeks
        ],
        "categories": dict(categories.most_common()),
    }


def insight_csv(data: dict[str, Any]) -> str:
    """The same figures as rows of (series, period, key, value)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["series", "period", "key", "value"])
    for day in data["days"]:
        for severity, count in day["alerts"].items():
            writer.writerow(["alerts", day["day"], severity, count])
        for level, count in day["turns"].items():
            writer.writerow(["turns", day["day"], level, count])
        writer.writerow(["not_understood", day["day"], "turns", day["not_understood"]])
    for week in data["weeks"]:
        for key, value in week.items():
            if key != "week":
                writer.writerow(["weekly", week["week"], key, "" if value is None else value])
    period = f"{data['since']}..{data['until']}"
    for category, count in data["categories"].items():
        writer.writerow(["categories_alerted", period, category, count])
    return out.getvalue()
