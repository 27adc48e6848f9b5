"""Loading and validating the triage protocol data file (`protocol.yml`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PROTOCOL_PATH = Path(__file__).resolve().parent / "protocol.yml"
LEVELS = ("emergency", "urgent", "routine", "info", "none")
LEVEL_RANK = {level: rank for rank, level in enumerate(reversed(LEVELS))}
MODIFIERS = ("severe", "sudden", "persistent", "prolonged")


class ProtocolError(ValueError):
    """The protocol file is invalid; the message names the offending entry."""


@dataclass(frozen=True)
class GuidanceLine:
    text: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "source": self.source}


@dataclass(frozen=True)
class Category:
    name: str
    level: str
    source: str
    guidance: tuple[GuidanceLine, ...]
    stop_next_dose: bool
    action: GuidanceLine | None = None  # emergencies: what to do now, shown first


@dataclass(frozen=True)
class InfoTopic:
    name: str
    source: str
    answer: tuple[GuidanceLine, ...]


@dataclass(frozen=True)
class Concept:
    name: str
    category: str | None  # None: counts only inside combinations
    in_window: str | None
    in_window_needs: frozenset[str]
    asks_window: bool


@dataclass(frozen=True)
class Combination:
    name: str
    all: tuple[str, ...]
    any: tuple[str, ...]
    modifiers: tuple[str, ...]
    category: str
    replaces: bool
    # The rule does not apply when the patient denies one of these ("no temperature").
    unless_denied: tuple[str, ...] = ()


@dataclass(frozen=True)
class LevelGuidance:
    before: tuple[GuidanceLine, ...]
    after: tuple[GuidanceLine, ...]


@dataclass(frozen=True)
class Protocol:
    """The whole protocol, validated: every name it uses is defined."""

    categories: dict[str, Category]
    info_topics: dict[str, InfoTopic]
    concepts: dict[str, Concept]
    combinations: tuple[Combination, ...]
    level_guidance: dict[str, LevelGuidance]
    stop_next_dose: GuidanceLine
    severity_from_level: str
    severity_category: str
    # Categories for which lasting long is not by itself a sign of worsening (low mood).
    prolonged_is_usual: frozenset[str]
    questions: dict[str, GuidanceLine]
    # Confidence above which the red-flag safety net may raise a level (None: off).
    safety_net_min_confidence: float | None = None

    def level_of(self, category: str) -> str:
        return self.categories[category].level


def _require(mapping: Any, key: str, where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise ProtocolError(f"{where}: missing '{key}'")
    return mapping[key]


def _lines(raw: Any, where: str) -> tuple[GuidanceLine, ...]:
    if not isinstance(raw, list):
        raise ProtocolError(f"{where}: must be a list of {{text, source}} lines")
    lines = []
    for index, item in enumerate(raw):
        here = f"{where}[{index}]"
        text, source = _require(item, "text", here), _require(item, "source", here)
        if not str(text).strip() or not str(source).strip():
            raise ProtocolError(f"{here}: text and source must not be empty")
        lines.append(GuidanceLine(str(text), str(source)))
    return tuple(lines)


def _check_level(level: Any, where: str) -> str:
    if level not in LEVELS:
        raise ProtocolError(f"{where}: unknown level {level!r} (levels: {', '.join(LEVELS)})")
    return level


def parse_protocol(data: dict[str, Any]) -> Protocol:
    """Build and validate a Protocol from the YAML document."""
    if not isinstance(data, dict):
        raise ProtocolError("protocol: the document must be a mapping")
    if list(_require(data, "levels", "protocol")) != list(LEVELS):
        raise ProtocolError(f"protocol.levels: must be exactly {list(LEVELS)}")

    categories: dict[str, Category] = {}
    for name, spec in _require(data, "categories", "protocol").items():
        where = f"categories.{name}"
        level = _check_level(_require(spec, "level", where), f"{where}.level")
        action = None
        if "action" in spec:
            (action,) = _lines([spec["action"]], f"{where}.action")
        elif level == "emergency":
            raise ProtocolError(f"{where}: an emergency category needs an 'action' line")
        categories[name] = Category(
            name=name,
            level=level,
            source=str(_require(spec, "source", where)),
            guidance=_lines(_require(spec, "guidance", where), f"{where}.guidance"),
            stop_next_dose=bool(spec.get("stop_next_dose", False)),
            action=action,
        )

    topics: dict[str, InfoTopic] = {}
    for name, spec in _require(data, "info_topics", "protocol").items():
        where = f"info_topics.{name}"
        if name in categories:
            raise ProtocolError(f"{where}: name already used by a category")
        topics[name] = InfoTopic(
            name,
            str(_require(spec, "source", where)),
            _lines(_require(spec, "answer", where), f"{where}.answer"),
        )

    def check_category(name: Any, where: str) -> str:
        if name not in categories:
            raise ProtocolError(f"{where}: unknown category {name!r}")
        return name

    concepts: dict[str, Concept] = {}
    raw_concepts = _require(data, "concepts", "protocol")
    for name, spec in raw_concepts.items():
        where = f"concepts.{name}"
        in_window = spec.get("in_window")
        needs = spec.get("in_window_needs") or []
        for needed in needs:
            if needed not in raw_concepts:
                raise ProtocolError(f"{where}.in_window_needs: unknown concept {needed!r}")
        category = _require(spec, "category", where)
        concepts[name] = Concept(
            name=name,
            category=None if category is None else check_category(category, f"{where}.category"),
            in_window=check_category(in_window, f"{where}.in_window") if in_window else None,
            in_window_needs=frozenset(needs),
            asks_window=bool(spec.get("asks_window", False)),
        )

    combinations = []
    for index, spec in enumerate(_require(data, "combinations", "protocol")):
        where = f"combinations[{index}] ({spec.get('name', 'unnamed')})"
        parts = tuple(_require(spec, "all", where))
        either = tuple(spec.get("any") or ())
        unless_denied = tuple(spec.get("unless_denied") or ())
        for concept in parts + either + unless_denied:
            if concept not in concepts:
                raise ProtocolError(f"{where}: unknown concept {concept!r}")
        modifiers = tuple(spec.get("modifiers") or ())
        for modifier in modifiers:
            if modifier not in MODIFIERS:
                raise ProtocolError(f"{where}: unknown modifier {modifier!r}")
        combinations.append(
            Combination(
                name=str(spec.get("name", f"combination {index + 1}")),
                all=parts,
                any=either,
                modifiers=modifiers,
                category=check_category(_require(spec, "category", where), f"{where}.category"),
                replaces=bool(spec.get("replaces", False)),
                unless_denied=unless_denied,
            )
        )

    level_guidance = {}
    for level, spec in _require(data, "level_guidance", "protocol").items():
        where = f"level_guidance.{level}"
        _check_level(level, where)
        level_guidance[level] = LevelGuidance(
            _lines(spec.get("before") or [], f"{where}.before"),
            _lines(spec.get("after") or [], f"{where}.after"),
        )

    severity = _require(data, "severity", "protocol")
    stop = _require(data, "stop_next_dose", "protocol")
    questions = {
        name: GuidanceLine(
            str(_require(q, "text", f"questions.{name}")),
            str(_require(q, "source", f"questions.{name}")),
        )
        for name, q in _require(data, "questions", "protocol").items()
    }
    safety_net = data.get("safety_net") or {}
    min_confidence = safety_net.get("min_confidence")
    if min_confidence is not None and not 0 < float(min_confidence) <= 1:
        raise ProtocolError("safety_net.min_confidence: must be between 0 and 1")
    return Protocol(
        safety_net_min_confidence=None if min_confidence is None else float(min_confidence),
        categories=categories,
        info_topics=topics,
        concepts=concepts,
        combinations=tuple(combinations),
        level_guidance=level_guidance,
        stop_next_dose=GuidanceLine(
            str(_require(stop, "text", "stop_next_dose")),
            str(_require(stop, "source", "stop_next_dose")),
        ),
        severity_from_level=_check_level(
            _require(severity, "from_level", "severity"), "severity.from_level"
        ),
        severity_category=check_category(
            _require(severity, "category", "severity"), "severity.category"
        ),
        prolonged_is_usual=frozenset(
            check_category(c, "severity.prolonged_is_usual")
            for c in severity.get("prolonged_is_usual") or []
        ),
        questions=questions,
    )


def load_protocol(path: Path = PROTOCOL_PATH) -> Protocol:
    """Read and validate a protocol file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ProtocolError(f"{path}: not valid YAML: {error}") from None
    return parse_protocol(data)


@lru_cache(maxsize=1)
def default_protocol() -> Protocol:
    """The protocol shipped with the service, loaded once."""
    return load_protocol()
