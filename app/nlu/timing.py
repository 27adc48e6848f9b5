"""Infusion window, time since stopping natalizumab, and body temperatures, from text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from app.nlu.sound import HAN
from app.nlu.text import clean

# The infusion window of protocol rule 5: during the infusion or up to 2 hours after it.
WINDOWS = ("during", "within_2h", "later", "unknown")

HOURS_PER_MONTH = 730  # months_since_stopped is in months of 730 hours
# Word edges, like \b, except that Chinese characters need none (no spaces between words).
EDGE_BEFORE = rf"(?<![^\W_{HAN}])"
EDGE_AFTER = rf"(?![^\W_{HAN}])"


def _alternatives(words: Any) -> str:
    """A regex matching any of the words, longest first (so "a couple of" before "a")."""
    return "|".join(re.escape(str(word)) for word in sorted(words, key=len, reverse=True))


def _hours(value: Any) -> float:
    """A unit's length in hours: a number or a fraction such as "1/60"."""
    if isinstance(value, str) and "/" in value:
        numerator, denominator = value.split("/")
        return float(Fraction(int(numerator), int(denominator)))
    if not isinstance(value, int | float):
        raise ValueError(f"time_words.units: {value!r} is not a number of hours")
    return value


def _minutes(value: Any) -> int:
    """Minutes after midnight of a time of day written "12:30"."""
    hours, _, minutes = str(value).partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ValueError(f"time_words.meal_times: {value!r} is not a time such as '12:30'")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True)
class TimeWords:
    """A language's amounts of time and clock times (the `time_words` of its rule file)."""

    numbers: dict[str, float]
    units: dict[str, float]
    clock_hours: dict[str, int]
    clock_minutes: dict[str, int]
    meal_times: dict[str, int]  # minutes after midnight of a meal told as a time (午饭)
    minutes_to: frozenset[str]
    pm: frozenset[str]
    duration: str  # the pattern of an amount of time (DUR in the rule files)
    duration_re: re.Pattern[str]
    # DUR with no edges: where it finds nothing, no pattern holding DUR can match
    duration_anywhere: re.Pattern[str]
    ended_at: re.Pattern[str]
    started_at: re.Pattern[str]
    now_is: re.Pattern[str]

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TimeWords:
        numbers = {str(k): v for k, v in config["numbers"].items()}
        units = {str(k): _hours(v) for k, v in config["units"].items()}
        clock_hours = {str(k): int(v) for k, v in config["clock_hours"].items()}
        clock_minutes = {str(k): int(v) for k, v in config["clock_minutes"].items()}
        meal_times = {str(k): _minutes(v) for k, v in (config.get("meal_times") or {}).items()}
        half = re.escape(config["and_a_half"])
        classifier = f"(?:{re.escape(config['classifier'])})?" if config.get("classifier") else ""
        duration = (
            rf"(?P<num>\d+(?:[.,]\d+)?|{_alternatives(numbers)}){classifier}(?P<and_half>{half})?"
            rf"\s*{config['range']}?\s*(?:\d+\s*)?"
            rf"(?P<unit>{_alternatives(units)})(?P<half>{half})?"
        )
        hour = rf"(?:\d{{1,2}}|{_alternatives(clock_hours)})"
        # A language whose clock times read differently (Chinese 下午两点半) gives its own
        # pattern: HOUR, groups h7 (hour), m7 (minutes: digits or a clock_minutes word) and
        # ap7 (am/pm word); MEAL, group meal (a meal of meal_times: 吃完午饭开始输的).
        meal = _alternatives(meal_times) if meal_times else "(?!)"
        clock = (
            str(config["clock"]).replace("HOUR", hour).replace("MEAL", meal)
            if config.get("clock")
            else (
                rf"(?:(?P<m>\d{{1,2}}|{_alternatives(clock_minutes)})"
                rf" (?P<rel>{_alternatives(config['minutes_past'] + config['minutes_to'])})"
                rf" (?P<h1>{hour})"
                rf"|(?:{_alternatives(config['half_past'])}) (?P<h6>{hour})\b"
                rf"|(?P<h2>\d{{1,2}})(?:[:.](?P<mm>\d{{2}}))? ?"
                rf"(?P<ap>{_alternatives(config['am'] + config['pm'])})"
                rf"|(?P<h3>\d{{1,2}})[:.](?P<mm3>\d{{2}})"
                rf"|(?P<h4>{hour}) {config['oclock']}"
                rf"|(?P<noon>{_alternatives(config['noon'])})"
                rf"|(?P<midnight>{_alternatives(config['midnight'])}))"
            )
        )

        def compile_clock(key: str) -> re.Pattern[str]:
            return re.compile(str(config[key]).replace("CLOCK", clock))

        return cls(
            numbers=numbers,
            units=units,
            clock_hours=clock_hours,
            clock_minutes=clock_minutes,
            meal_times=meal_times,
            minutes_to=frozenset(config["minutes_to"]),
            pm=frozenset(config["pm"]),
            duration=duration,
            duration_re=re.compile(rf"{EDGE_BEFORE}{duration}{EDGE_AFTER}"),
            duration_anywhere=re.compile(duration),
            ended_at=compile_clock("ended_at"),
            started_at=compile_clock("started_at"),
            now_is=compile_clock("now_is"),
        )

    def duration_hours(self, text: str) -> float | None:
        """Hours in the first amount of time written in `text` ("40 minutes" -> 0.67)."""
        match = self.duration_re.search(text)
        if match is None:
            return None
        number = match.group("num")
        value = self.numbers.get(number)
        if value is None:
            value = float(number.replace(",", "."))
        if match.group("half") or match.group("and_half"):  # "an hour and a half"
            value += 0.5
        return value * self.units[match.group("unit")]

    def hours_since_clock_end(self, text: str, infusion_hours: float = 1.0) -> float | None:
        """From "it finished at 2pm and it's now ten past three": hours between the two
        (from a start time, "it went up at 9.30", the hours since its expected end)."""
        ended = self.ended_at.search(text)
        if ended is None:
            started = self.started_at.search(text)
            if started is None:
                return None
            since_start = self._hours_between(started, text)
            return None if since_start is None else max(0.0, since_start - infusion_hours)
        return self._hours_between(ended, text)

    def _hours_between(self, ended: re.Match[str], text: str) -> float | None:
        """Hours from the clock time in `ended` to the "it's now ..." time: the first one
        after it, else one told before it ("三点多起来就说冷 … 十一点多就输完了")."""
        now = self.now_is.search(text, ended.end())
        if now is None:
            now = next(self.now_is.finditer(text, 0, ended.start()), None)
        if now is None:
            return None
        start, end = self._clock_minutes(ended), self._clock_minutes(now)
        if start is None or end is None or start[0] is None or end[0] is None:
            return None
        cycle = 1440 if (start[1] and end[1]) else 720
        return ((end[0] - start[0]) % cycle) / 60

    def _clock_minutes(self, match: re.Match[str]) -> tuple[int, bool] | None:
        """Minutes after midnight (mod 12 h when am/pm is not given), and whether am/pm was."""
        g = match.groupdict()

        def hour(value: str) -> int:
            return self.clock_hours.get(value) or int(value)

        if g.get("noon"):
            return 12 * 60, True
        if g.get("meal"):
            return self.meal_times[g["meal"]], True
        if g.get("midnight"):
            return 0, True
        if g.get("m"):
            base = hour(g["h1"]) * 60
            minutes = int(g["m"]) if g["m"].isdigit() else self.clock_minutes[g["m"]]
            return (base - minutes if g["rel"] in self.minutes_to else base + minutes) % 720, False
        if g.get("h2"):
            h = int(g["h2"]) % 12 + (12 if g["ap"] in self.pm else 0)
            return h * 60 + int(g["mm"] or 0), True
        if g.get("h3"):
            h = int(g["h3"])
            return (h * 60 + int(g["mm3"])) if h < 24 else None, h > 12
        if g.get("h4"):
            return hour(g["h4"]) % 12 * 60, False
        if g.get("h7"):  # a language's own clock pattern
            minutes = g.get("m7")
            extra = (
                int(minutes)
                if minutes and minutes.isdigit()
                else self.clock_minutes.get(minutes or "", 0)
            )
            if g.get("ap7"):
                h = hour(g["h7"]) % 12 + (12 if g["ap7"] in self.pm else 0)
                return h * 60 + extra, True
            return hour(g["h7"]) % 12 * 60 + extra, False
        if g.get("h6"):  # British "half 3" = 3:30
            return (hour(g["h6"]) % 12 * 60 + 30), False
        if g.get("h5") or g.get("h9"):  # a bare hour
            return int(g.get("h5") or g["h9"]) % 12 * 60, False
        return None


@dataclass(frozen=True)
class Thresholds:
    """The protocol's numbers the NLU needs (protocol.yml: infusion_window, fever_celsius)."""

    window_hours: float = 2.0  # the window lasts this long after the infusion ended
    infusion_hours: float = 1.0  # a start time counts as an end this much later
    fever_celsius: float = 38.0
    # A language's own threshold where its patients measure elsewhere (zh: under the arm)
    fever_celsius_by_language: tuple[tuple[str, float], ...] = ()

    def for_language(self, lang: str) -> Thresholds:
        """These thresholds as one language's messages are read."""
        fever = dict(self.fever_celsius_by_language).get(lang, self.fever_celsius)
        return replace(self, fever_celsius=fever, fever_celsius_by_language=())

    def is_fever(self, value: float) -> bool:
        """A body temperature at or above the fever threshold (Celsius or Fahrenheit)."""
        if 34 <= value <= 43:
            return value >= self.fever_celsius
        if 93 <= value <= 110:
            return value >= self.fever_celsius * 9 / 5 + 32
        return False


DEFAULT_THRESHOLDS = Thresholds()


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")
# References to a group by number or name mean something else once patterns are joined.
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def either(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """One pattern that matches where any of `patterns` does (group names dropped), so a
    message is scanned once rather than once per pattern (~3x faster)."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{_NAMED_GROUP.sub('(?:', p.pattern)})" for p in patterns))


@dataclass(frozen=True)
class TimingRules:
    """Compiled infusion-window and stopped-treatment patterns of one language."""

    during: tuple[re.Pattern[str], ...]
    within_2h: tuple[re.Pattern[str], ...]
    since: tuple[re.Pattern[str], ...]
    later: tuple[re.Pattern[str], ...]
    stopped: tuple[re.Pattern[str], ...]
    words: TimeWords
    # DUR since the infusion started: within the window when DUR - infusion_hours is.
    since_start: tuple[re.Pattern[str], ...] = ()
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    # Each list as one alternation (`either`), compiled with the rules: a list that cannot
    # be joined fails at start-up, not on a patient's message.
    combined: dict[str, re.Pattern[str] | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = ("during", "within_2h", "since", "since_start", "later")
        object.__setattr__(self, "combined", {name: either(getattr(self, name)) for name in names})

    @classmethod
    def from_config(
        cls,
        config: dict[str, Any],
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        *,
        words: TimeWords,
    ) -> TimingRules:
        def compile_all(key: str) -> tuple[re.Pattern[str], ...]:
            patterns = []
            for pattern in config.get(key) or []:
                if _BACKREFERENCE.search(pattern):
                    raise ValueError(f"infusion_window.{key}: no backreferences: {pattern!r}")
                source = pattern.replace("DUR", f"(?:{words.duration})")
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
            words=words,
            thresholds=thresholds,
        )

    def _found(self, name: str, text: str) -> bool:
        pattern = self.combined[name]
        return pattern is not None and pattern.search(text) is not None

    def infusion_window(self, text: str, raw: str | None = None) -> str:
        """`during`, `within_2h`, `later` or `unknown` for a normalised message (`raw`, the
        original text, keeps clock times such as "10:15" intact)."""
        found: set[str] = set()
        limit = self.thresholds.window_hours
        if self._found("during", text):
            found.add("during")
        if self._found("within_2h", text):
            found.add("within_2h")
        # Most messages give no amount of time: then no "N minutes since/after" can match.
        timed = self.words.duration_anywhere.search(text) is not None
        for pattern in self.since if timed and self._found("since", text) else ():
            for match in pattern.finditer(text):
                hours = self.words.duration_hours(match.group())
                if hours is not None:
                    found.add("within_2h" if hours <= limit else "later")
        for pattern in self.since_start if timed and self._found("since_start", text) else ():
            for match in pattern.finditer(text):
                hours = self.words.duration_hours(match.group())
                if hours is not None:
                    ended = hours - self.thresholds.infusion_hours
                    found.add("during" if ended < 0 else "within_2h" if ended <= limit else "later")
        if self._found("later", text):
            found.add("later")
        clock = self.words.hours_since_clock_end(
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
                hours = self.words.duration_hours(match.group())
                if hours is not None:
                    return round(hours / HOURS_PER_MONTH, 1)
        return None


def temperature_value(number: str) -> float | None:
    """Parse "38,4" / "101.3" to a float; None when not a number."""
    try:
        return float(number.replace(",", "."))
    except ValueError:
        return None
