"""Infusion window, time since stopping natalizumab, and body temperatures, from text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.nlu.text import clean

# The infusion window of protocol rule 5: during the infusion or up to 2 hours after it.
WINDOWS = ("during", "within_2h", "later", "unknown")

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "half an": 0.5, "a few": 3,
    "a couple of": 2, "couple of": 2, "several": 4, "few": 3, "couple": 2,
}  # fmt: skip
_UNIT_HOURS = {
    "minute": 1 / 60, "minutes": 1 / 60, "min": 1 / 60, "mins": 1 / 60,
    "hour": 1, "hours": 1, "h": 1, "day": 24, "days": 24, "week": 168, "weeks": 168,
    "fortnight": 336, "our": 1, "ours": 1, "month": 730, "months": 730, "year": 8760, "years": 8760,
}  # fmt: skip
_NUMBER = r"\d+(?:[.,]\d+)?|half an|a few|a couple of|couple of|several|an?|" + "|".join(
    sorted(
        (w for w in _NUMBER_WORDS if " " not in w and w not in {"a", "an"}), key=len, reverse=True
    )
)
# "an our ago": voice typing writes "hour" as "our"
DURATION = (
    rf"(?P<num>{_NUMBER})(?P<and_half> and a half)?\s*(?:-|to)?\s*(?:\d+\s*)?"
    rf"(?P<unit>minutes?|mins?|hours?|ours?|h|days?|weeks?|fortnight|months?|years?)"
    r"(?P<half> and a half)?"
)
_DURATION_RE = re.compile(rf"\b{DURATION}\b|\b(?P<fortnight>a fortnight)\b")


def duration_hours(text: str) -> float | None:
    """Hours in the first amount of time written in `text` ("40 minutes" -> 0.67)."""
    match = _DURATION_RE.search(text)
    if match is None:
        return None
    if match.group("fortnight"):
        return _UNIT_HOURS["fortnight"]
    number = match.group("num")
    value = _NUMBER_WORDS.get(number)
    if value is None:
        value = float(number.replace(",", "."))
    if match.group("half") or match.group("and_half"):  # "an hour and a half", "2 and a half"
        value += 0.5
    return value * _UNIT_HOURS[match.group("unit")]


_HOUR_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "noon": 12, "midday": 12, "midnight": 12,
}  # fmt: skip
_MINUTE_WORDS = {"five": 5, "ten": 10, "quarter": 15, "twenty": 20, "twenty five": 25, "half": 30}
_HOUR = r"(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|midnight)"
CLOCK = (
    rf"(?:(?P<m>twenty five|five|ten|quarter|twenty|half) (?P<rel>past|after|to) (?P<h1>{_HOUR})"
    rf"|half (?P<h6>{_HOUR})\b"
    rf"|(?P<h2>\d{{1,2}})(?:[:.](?P<mm>\d{{2}}))? ?(?P<ap>am|pm|a\.m\.|p\.m\.)"
    rf"|(?P<h3>\d{{1,2}})[:.](?P<mm3>\d{{2}})"
    rf"|(?P<h4>{_HOUR}) o'?clock|(?P<noon>noon|midday|lunchtime|lunch time)|(?P<midnight>midnight))"
)
# When it ended, a bare hour is enough ("the bag finished at 2").
_ENDED_AT = re.compile(
    r"\b(?:ended|finished|stopped|done|over|came off|come off|unhooked|disconnected|out)"
    r"(?: me| him| her| my| the)?(?: drip| infusion| tysabri| tyruko)?"
    rf" (?:at|around|about|by|just after|just before) (?:about )?(?:{CLOCK}|(?P<h5>\d{{1,2}})\b)"
)
# "drip went up at 9.30, it's 10.15": the infusion takes about 1 hour (the document), so
# a start time counts as an end time one hour later.
_STARTED_AT = re.compile(
    r"(?:\b(?:drip|infusion|bag|tysabri|tyruko|natalizumab|it)(?: was| got)?"
    r" (?:went up|started|began|was put up|put up|going in|hooked up|connected)"
    # "went in at 1, ..." / "started at 10, ...": a clause with no symptom as its subject
    r"|(?:^|[,.;!?(] ?|\b(?:i|we|they)(?: was| were)? )"
    r"(?:went in|got hooked up|was hooked up|hooked me up|started me|started|began|got started))"
    rf" (?:at|around|about|just after|just before) (?:about )?(?:{CLOCK}|(?P<h5>\d{{1,2}})\b)"
)
# "it's 10.15 now"; also when the symptom began after it: "itchy since lunchtime"
_NOW_IS = re.compile(
    r"\b(?:it'?s|it is|its|now|since|from|started at|began at)"
    rf"(?: now)?(?: at)?(?: just)?(?: gone)? (?:about |around )?{CLOCK}"
)


def _clock_minutes(match: re.Match[str]) -> tuple[int, bool] | None:
    """Minutes after midnight (mod 12 h when am/pm is not given), and whether am/pm was."""
    g = match.groupdict()

    def hour(value: str) -> int:
        return _HOUR_WORDS.get(value) or int(value)

    if g["noon"]:
        return 12 * 60, True
    if g.get("midnight"):
        return 0, True
    if g["m"]:
        base, minutes = hour(g["h1"]) * 60, _MINUTE_WORDS[g["m"]]
        return (base - minutes if g["rel"] == "to" else base + minutes) % 720, False
    if g["h2"]:
        h = int(g["h2"]) % 12 + (12 if g["ap"].startswith("p") else 0)
        return h * 60 + int(g["mm"] or 0), True
    if g["h3"]:
        h = int(g["h3"])
        return (h * 60 + int(g["mm3"])) if h < 24 else None, h > 12
    if g["h4"]:
        return hour(g["h4"]) % 12 * 60, False
    if g.get("h6"):  # British "half 3" = 3:30
        return (hour(g["h6"]) % 12 * 60 + 30), False
    if g.get("h5"):
        return int(g["h5"]) % 12 * 60, False
    return None


@dataclass(frozen=True)
class Thresholds:
    """The protocol's numbers the NLU needs (protocol.yml: infusion_window, fever_celsius)."""

    window_hours: float = 2.0  # the window lasts this long after the infusion ended
    infusion_hours: float = 1.0  # a start time counts as an end this much later
    fever_celsius: float = 38.0

    def is_fever(self, value: float) -> bool:
        """A body temperature at or above the fever threshold (Celsius or Fahrenheit)."""
        if 34 <= value <= 43:
            return value >= self.fever_celsius
        if 93 <= value <= 110:
            return value >= self.fever_celsius * 9 / 5 + 32
        return False


DEFAULT_THRESHOLDS = Thresholds()


def hours_since_clock_end(text: str, infusion_hours: float = 1.0) -> float | None:
    """From "it finished at 2pm and it's now ten past three": hours between the two (from
    a start time, "it went up at 9.30", the hours since its expected end)."""
    ended = _ENDED_AT.search(text)
    if ended is None:
        started = _STARTED_AT.search(text)
        if started is None:
            return None
        since_start = _hours_between(started, text)
        return None if since_start is None else max(0.0, since_start - infusion_hours)
    return _hours_between(ended, text)


def _hours_between(ended: re.Match[str], text: str) -> float | None:
    """Hours from the clock time in `ended` to the "it's now ..." time after it."""
    now = None
    for candidate in _NOW_IS.finditer(text, ended.end()):
        now = candidate
        break
    if now is None:
        return None
    start, end = _clock_minutes(ended), _clock_minutes(now)
    if start is None or end is None or start[0] is None or end[0] is None:
        return None
    cycle = 1440 if (start[1] and end[1]) else 720
    return ((end[0] - start[0]) % cycle) / 60


@dataclass(frozen=True)
class TimingRules:
    """Compiled infusion-window and stopped-treatment patterns of one language."""

    during: tuple[re.Pattern[str], ...]
    within_2h: tuple[re.Pattern[str], ...]
    since: tuple[re.Pattern[str], ...]
    later: tuple[re.Pattern[str], ...]
    stopped: tuple[re.Pattern[str], ...]
    # DUR since the infusion started: within the window when DUR - infusion_hours is.
    since_start: tuple[re.Pattern[str], ...] = ()
    thresholds: Thresholds = DEFAULT_THRESHOLDS

    @classmethod
    def from_config(
        cls, config: dict[str, Any], thresholds: Thresholds = DEFAULT_THRESHOLDS
    ) -> TimingRules:
        def compile_all(key: str) -> tuple[re.Pattern[str], ...]:
            patterns = []
            for pattern in config.get(key) or []:
                source = pattern.replace("DUR", f"(?:{DURATION})")
                try:
                    patterns.append(re.compile(source))
                except re.error as error:
                    message = f"infusion_window.{key}: bad pattern {pattern!r}: {error}"
                    raise ValueError(message) from None
            return tuple(patterns)

        return cls(
            during=compile_all("during"),
            within_2h=compile_all("within_2h"),
            since=compile_all("since_patterns"),
            since_start=compile_all("since_start_patterns"),
            later=compile_all("later"),
            stopped=compile_all("stopped_patterns"),
            thresholds=thresholds,
        )

    def infusion_window(self, text: str, raw: str | None = None) -> str:
        """`during`, `within_2h`, `later` or `unknown` for a normalised message (`raw`, the
        original text, keeps clock times such as "10:15" intact)."""
        found: set[str] = set()
        limit = self.thresholds.window_hours
        if any(p.search(text) for p in self.during):
            found.add("during")
        if any(p.search(text) for p in self.within_2h):
            found.add("within_2h")
        for pattern in self.since:
            for match in pattern.finditer(text):
                hours = duration_hours(match.group())
                if hours is not None:
                    found.add("within_2h" if hours <= limit else "later")
        for pattern in self.since_start:
            for match in pattern.finditer(text):
                hours = duration_hours(match.group())
                if hours is not None:
                    ended = hours - self.thresholds.infusion_hours
                    found.add("during" if ended < 0 else "within_2h" if ended <= limit else "later")
        if any(p.search(text) for p in self.later):
            found.add("later")
        clock = hours_since_clock_end(
            clean(raw).lower() if raw else text, self.thresholds.infusion_hours
        )
        if clock is not None:
            found.add("within_2h" if clock <= limit else "later")
        for window in WINDOWS:  # the most recent window wins: it is the safer reading
            if window in found:
                return window
        return "unknown"

    def months_since_stopped(self, text: str) -> float | None:
        """Months since the patient stopped natalizumab, when the message says so."""
        for pattern in self.stopped:
            match = pattern.search(text)
            if match:
                hours = duration_hours(match.group())
                if hours is not None:
                    return round(hours / _UNIT_HOURS["month"], 1)
        return None


def temperature_value(number: str) -> float | None:
    """Parse "38,4" / "101.3" to a float; None when not a number."""
    try:
        return float(number.replace(",", "."))
    except ValueError:
        return None
