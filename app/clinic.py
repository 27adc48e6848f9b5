"""Clinic hours: when a care coordinator can answer, told to the patient with every alert."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.triage.protocol import ClinicWords
from app.triage.reply import AlertNotice

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<opens>\d{1,2}:\d{2})\s*-\s*(?P<closes>\d{1,2}:\d{2})\s*$"
)


class ClinicHoursError(ValueError):
    """The clinic hours setting cannot be read; the message says how to write it."""


def _clock(value: str, where: str) -> time:
    hours, minutes = (int(part) for part in value.split(":"))
    if hours == 24 and minutes == 0:
        return time.max
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ClinicHoursError(f"clinic hours: {where} {value!r} is not a time of day")
    return time(hours, minutes)


@dataclass(frozen=True)
class ClinicHours:
    """Opening times, e.g. "Mon-Fri 08:00-18:00; Sat 09:00-12:00", in one time zone."""

    spec: str
    periods: tuple[tuple[int, time, time], ...]  # (weekday, opens, closes)
    zone: ZoneInfo
    reply_minutes: int

    @classmethod
    def parse(cls, spec: str, zone: str = "UTC", reply_minutes: int = 60) -> ClinicHours:
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ClinicHoursError(f"clinic time zone {zone!r} is unknown") from None
        if reply_minutes <= 0:
            raise ClinicHoursError("clinic reply time must be a positive number of minutes")
        periods = []
        for part in spec.split(";"):
            match = _SPEC.match(part.lower())
            if match is None:
                raise ClinicHoursError(
                    f"clinic hours {part.strip()!r}: write days and times like "
                    "'Mon-Fri 08:00-18:00; Sat 09:00-12:00'"
                )
            first, last = match["first"], match["last"] or match["first"]
            if first not in DAYS or last not in DAYS:
                raise ClinicHoursError(f"clinic hours {part.strip()!r}: days are {', '.join(DAYS)}")
            opens, closes = _clock(match["opens"], "opening"), _clock(match["closes"], "closing")
            if closes <= opens:
                raise ClinicHoursError(f"clinic hours {part.strip()!r}: closes before it opens")
            start, end = DAYS.index(first), DAYS.index(last)
            days = range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)]
            periods += [(day, opens, closes) for day in days]
        return cls(spec.strip(), tuple(periods), tz, reply_minutes)

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        now = local.time()
        return any(
            day == local.weekday() and opens <= now < closes for day, opens, closes in self.periods
        )

    def describe(self, words: ClinicWords | None = None) -> str:
        """The hours as configured, the day names in the patient's language."""
        spec = self.spec
        if words and words.days:
            spec = re.sub(
                r"[A-Za-z]{3}", lambda day: words.days.get(day.group().lower(), day.group()), spec
            )
        return f"{spec} ({self.zone.key})"

    def reply_time(self, words: ClinicWords | None = None) -> str:
        words = words or ClinicWords()
        minutes = self.reply_minutes
        if minutes % 60 == 0:
            hours = minutes // 60
            return words.hour if hours == 1 else words.hours.format(n=hours)
        return words.minutes.format(n=minutes)

    def notice(
        self, moment: datetime | None = None, words: ClinicWords | None = None
    ) -> AlertNotice:
        """What the patient is told about a reply when the care team is alerted now (in
        the words of the protocol's language)."""
        return AlertNotice(
            clinic_open=self.is_open(moment or datetime.now(UTC)),
            hours=self.describe(words),
            reply_time=self.reply_time(words),
        )
