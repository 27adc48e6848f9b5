"""Loading and validating the triage protocol data file (`protocol.yml`)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

PROTOCOL_PATH = Path(__file__).resolve().parent / "protocol.yml"
LEVELS = ("emergency", "urgent", "routine", "info", "none")
MODIFIERS = ("severe", "sudden", "persistent", "prolonged")


class ProtocolError(ValueError):
    """The protocol file is invalid; the message names the offending entry."""


WINDOWS = ("during", "within_2h", "later", "unknown")


@dataclass(frozen=True)
class GuidanceLine:
    text: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "source": self.source}


@dataclass(frozen=True)
class CategoryLine(GuidanceLine):
    """A category's explanation; `reported` is its wording about the patient's own symptoms
    ({reported}), `self_care` lines belong to routine replies only."""

    reported: str | None = None
    self_care: bool = False


@dataclass(frozen=True)
class Category:
    name: str
    level: str
    source: str
    guidance: tuple[CategoryLine, ...]
    stop_next_dose: bool
    # Emergencies: the responses that open the reply (the action), in order.
    action: tuple[str, ...] = ()


@dataclass(frozen=True)
class Response(GuidanceLine):
    """A fixed clinical text; `by_window` rewords it for what is known of the infusion
    (None: the line is not shown then)."""

    by_window: tuple[tuple[str, str | None], ...] = ()

    def for_window(self, window: str) -> str | None:
        return dict(self.by_window).get(window, self.text)


@dataclass(frozen=True)
class Level:
    name: str
    rank: int
    red_flag: bool = False
    alert_severity: str | None = None
    opens_with: str | None = None
    opens_with_stop_dose: str | None = None
    closes_with: tuple[str, ...] = ()
    outside_hours: str | None = None


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
    label: str = ""  # how the bot names it to the patient


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
class Document:
    title: str
    path: str
    not_from_document: tuple[str, ...]

    def quoted_by(self, source: str) -> bool:
        """Whether a line with this source quotes the document (not practice or protocol)."""
        return not source.startswith(self.not_from_document)


@dataclass(frozen=True)
class ClinicWords:
    """How clinic hours and reply times are said ("1 hour", "Mon-Fri" -> "周一-周五")."""

    minutes: str = "{n} minutes"
    hour: str = "1 hour"
    hours: str = "{n} hours"
    days: dict[str, str] = field(default_factory=dict)  # "mon" -> the language's name


@dataclass(frozen=True)
class Protocol:
    """The whole protocol, validated: every name it uses is defined."""

    levels: dict[str, Level]
    categories: dict[str, Category]
    info_topics: dict[str, InfoTopic]
    concepts: dict[str, Concept]
    combinations: tuple[Combination, ...]
    responses: dict[str, Response]
    document: Document
    severity_from_level: str
    severity_category: str
    # Categories for which lasting long is not by itself a sign of worsening (low mood).
    prolonged_is_usual: frozenset[str]
    questions: dict[str, GuidanceLine]
    handoff_alert_severity: str = "normal"
    # The topic that answers a question about side effects naming no sign the NLU knows.
    symptom_question_topic: str | None = None
    window_hours: float = 2.0
    infusion_hours: float = 1.0
    fever_celsius: float = 38.0
    fever_celsius_by_language: dict[str, float] = field(default_factory=dict)
    # Confidence above which the red-flag safety net may raise a level (None: off).
    safety_net_min_confidence: float | None = None
    # ... and when no symptom at all was recognised in a message that asks nothing.
    safety_net_min_confidence_unrecognised: float | None = None
    # How a list of reported symptoms is joined: "hives, itching and flushing".
    list_separator: str = ", "
    list_last: str = " and "
    # "severe" + "headache" -> "severe headache"; "a tight throat" -> "a severe tight throat"
    modifier_words: dict[str, str] = field(default_factory=dict)
    modifier_joiner: str = " "
    articles: frozenset[str] = frozenset()
    lang: str = "en"
    clinic_words: ClinicWords = field(default_factory=ClinicWords)
    # The same protocol with its patient-facing texts in other languages (protocol.<lang>.yml).
    translations: dict[str, Protocol] = field(default_factory=dict, compare=False, repr=False)

    def for_language(self, lang: str | None) -> Protocol:
        """This protocol with its texts in `lang` (English where there is no translation)."""
        return self.translations.get(lang or self.lang, self)

    @cached_property
    def window_only_categories(self) -> frozenset[str]:
        """Categories reached only inside the infusion window (infusion_reaction)."""
        concepts = self.concepts.values()
        return frozenset(c.in_window for c in concepts if c.in_window) - {
            c.category for c in concepts
        }

    def level_of(self, category: str) -> str:
        return self.categories[category].level

    def rank(self, level: str | None) -> int:
        return self.levels[level or "none"].rank

    def is_red(self, level: str | None) -> bool:
        return self.levels[level or "none"].red_flag

    def higher(self, a: str | None, b: str | None) -> str:
        """The higher of two levels (None counts as `none`)."""
        a, b = a or "none", b or "none"
        return a if self.rank(a) >= self.rank(b) else b

    def alert_severity(self, level: str) -> str | None:
        return self.levels[level].alert_severity

    @property
    def severity_rank(self) -> dict[str, int]:
        """Alert severities, most severe first (0)."""
        ranked = sorted(
            (lvl for lvl in self.levels.values() if lvl.alert_severity), key=lambda lvl: -lvl.rank
        )
        order = [lvl.alert_severity for lvl in ranked] + [self.handoff_alert_severity]
        return {severity: index for index, severity in enumerate(dict.fromkeys(order))}


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


def _category_lines(raw: Any, where: str) -> tuple[CategoryLine, ...]:
    lines = []
    for index, (line, item) in enumerate(zip(_lines(raw, where), raw, strict=True)):
        reported = item.get("reported")
        if reported is not None and "{reported" not in str(reported):
            raise ProtocolError(f"{where}[{index}].reported: must name {{reported}}")
        lines.append(
            CategoryLine(
                line.text,
                line.source,
                None if reported is None else str(reported),
                bool(item.get("self_care", False)),
            )
        )
    return tuple(lines)


def _levels(raw: Any, responses: dict[str, Response]) -> dict[str, Level]:
    if not isinstance(raw, dict) or list(raw) != list(LEVELS):
        raise ProtocolError(f"protocol.levels: must be exactly {list(LEVELS)}, in that order")

    def response(name: Any, where: str) -> str | None:
        if name is not None and name not in responses:
            raise ProtocolError(f"{where}: unknown response {name!r}")
        return name

    levels = {}
    for name, spec in raw.items():
        where = f"levels.{name}"
        spec = spec or {}
        rank = _require(spec, "rank", where)
        red = bool(spec.get("red_flag", False))
        if red and not spec.get("alert_severity"):
            raise ProtocolError(f"{where}: a red-flag level needs an 'alert_severity'")
        levels[name] = Level(
            name=name,
            rank=int(rank),
            red_flag=red,
            alert_severity=spec.get("alert_severity"),
            opens_with=response(spec.get("opens_with"), f"{where}.opens_with"),
            opens_with_stop_dose=response(
                spec.get("opens_with_stop_dose"), f"{where}.opens_with_stop_dose"
            ),
            closes_with=tuple(
                response(r, f"{where}.closes_with") or "" for r in spec.get("closes_with") or []
            ),
            outside_hours=spec.get("outside_hours"),
        )
    ranks = [level.rank for level in levels.values()]
    if ranks != sorted(ranks, reverse=True) or len(set(ranks)) != len(ranks):
        raise ProtocolError("protocol.levels: ranks must fall strictly from emergency to none")
    return levels


def parse_protocol(data: dict[str, Any]) -> Protocol:
    """Build and validate a Protocol from the YAML document."""
    if not isinstance(data, dict):
        raise ProtocolError("protocol: the document must be a mapping")
    responses = {}
    for name, spec in (_require(data, "responses", "protocol") or {}).items():
        line = _lines([spec], f"responses.{name}")[0]
        by_window = spec.get("by_window") or {}
        for window in by_window:
            if window not in WINDOWS:
                raise ProtocolError(f"responses.{name}.by_window: unknown window {window!r}")
        responses[name] = Response(line.text, line.source, tuple(by_window.items()))
    levels = _levels(_require(data, "levels", "protocol"), responses)

    categories: dict[str, Category] = {}
    for name, spec in _require(data, "categories", "protocol").items():
        where = f"categories.{name}"
        level = _check_level(_require(spec, "level", where), f"{where}.level")
        action = spec.get("action") or []
        if not isinstance(action, list):
            raise ProtocolError(f"{where}.action: must be a list of responses")
        for response in action:
            if response not in responses:
                raise ProtocolError(f"{where}.action: unknown response {response!r}")
        if level == "emergency" and not action:
            raise ProtocolError(f"{where}: an emergency category needs an 'action'")
        categories[name] = Category(
            name=name,
            level=level,
            source=str(_require(spec, "source", where)),
            guidance=_category_lines(_require(spec, "guidance", where), f"{where}.guidance"),
            stop_next_dose=bool(spec.get("stop_next_dose", False)),
            action=tuple(action),
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
        label = str(_require(spec, "label", where)).strip()
        if not label:
            raise ProtocolError(f"{where}.label: must not be empty")
        concepts[name] = Concept(
            name=name,
            category=None if category is None else check_category(category, f"{where}.category"),
            in_window=check_category(in_window, f"{where}.in_window") if in_window else None,
            in_window_needs=frozenset(needs),
            asks_window=bool(spec.get("asks_window", False)),
            label=label,
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

    def check_topic(name: Any) -> str | None:
        if name is not None and name not in topics:
            raise ProtocolError(f"symptom_question_topic: unknown info topic {name!r}")
        return name

    severity = _require(data, "severity", "protocol")
    questions = {
        name: GuidanceLine(
            str(_require(q, "text", f"questions.{name}")),
            str(_require(q, "source", f"questions.{name}")),
        )
        for name, q in _require(data, "questions", "protocol").items()
    }
    safety_net = data.get("safety_net") or {}
    min_confidence = safety_net.get("min_confidence")
    unrecognised = safety_net.get("min_confidence_unrecognised", min_confidence)
    for key, value in (
        ("min_confidence", min_confidence),
        ("min_confidence_unrecognised", unrecognised),
    ):
        if value is not None and not 0 < float(value) <= 1:
            raise ProtocolError(f"safety_net.{key}: must be between 0 and 1")
    window = _require(data, "infusion_window", "protocol")
    words = data.get("list_words") or {}
    document = _require(data, "document", "protocol")
    return Protocol(
        levels=levels,
        safety_net_min_confidence=None if min_confidence is None else float(min_confidence),
        safety_net_min_confidence_unrecognised=None
        if unrecognised is None
        else float(unrecognised),
        categories=categories,
        info_topics=topics,
        concepts=concepts,
        combinations=tuple(combinations),
        responses=responses,
        document=Document(
            title=str(_require(document, "title", "document")),
            path=str(_require(document, "path", "document")),
            not_from_document=tuple(document.get("not_from_document") or ()),
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
        handoff_alert_severity=str(data.get("handoff_alert_severity") or "normal"),
        symptom_question_topic=check_topic(data.get("symptom_question_topic")),
        window_hours=float(_require(window, "hours_after_end", "infusion_window")),
        infusion_hours=float(_require(window, "infusion_hours", "infusion_window")),
        fever_celsius=float(_require(data, "fever_celsius", "protocol")),
        fever_celsius_by_language={
            str(lang): float(value)
            for lang, value in (data.get("fever_celsius_by_language") or {}).items()
        },
        list_separator=str(words.get("separator", ", ")),
        list_last=str(words.get("last", " and ")),
        modifier_words={str(k): str(v) for k, v in (words.get("modifiers") or {}).items()},
        modifier_joiner=str(words.get("modifier_joiner", " ")),
        articles=frozenset(words.get("articles") or ()),
        lang=str(data.get("lang") or "en"),
        clinic_words=_clinic_words(data.get("clinic_words") or {}),
    )


def _clinic_words(raw: dict[str, Any]) -> ClinicWords:
    defaults = ClinicWords()
    return ClinicWords(
        minutes=str(raw.get("minutes", defaults.minutes)),
        hour=str(raw.get("hour", defaults.hour)),
        hours=str(raw.get("hours", defaults.hours)),
        days={str(k): str(v) for k, v in (raw.get("days") or {}).items()},
    )


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ProtocolError(f"{path}: not valid YAML: {error}") from None


# Sections a translation gives whole: how its language lists names and says times.
WHOLE_SECTIONS = frozenset({"list_words", "clinic_words"})


def translated(data: Any, texts: Any, where: str = "") -> Any:
    """The protocol document with the texts of a translation file laid over it: the same
    keys and list positions; everything the translation does not name stays as it is."""
    if isinstance(texts, dict) and not where:
        whole = {k: v for k, v in texts.items() if k in WHOLE_SECTIONS}
        rest = {k: v for k, v in texts.items() if k not in WHOLE_SECTIONS}
        return {**translated(data, rest, "protocol"), **whole}
    if isinstance(texts, dict):
        if not isinstance(data, dict):
            raise ProtocolError(f"translation {where}: no such entry in the protocol")
        merged = dict(data)
        for key, value in texts.items():
            if key not in data:
                raise ProtocolError(f"translation {where}.{key}: no such entry in the protocol")
            merged[key] = translated(data[key], value, f"{where}.{key}")
        return merged
    if isinstance(texts, list):
        if not isinstance(data, list) or len(texts) != len(data):
            raise ProtocolError(f"translation {where}: needs one entry per protocol line")
        return [
            translated(d, t, f"{where}[{i}]")
            for i, (d, t) in enumerate(zip(data, texts, strict=True))
        ]
    return texts


def load_protocol(path: Path = PROTOCOL_PATH) -> Protocol:
    """Read and validate a protocol file and its translations (protocol.<lang>.yml)."""
    data = _read(path)
    protocol = parse_protocol(data)
    for translation in sorted(path.parent.glob(f"{path.stem}.*{path.suffix}")):
        texts = _read(translation)
        lang = str(_require(texts, "lang", str(translation)))
        overlay = {k: v for k, v in texts.items() if k != "lang"}
        localized = parse_protocol({**translated(copy.deepcopy(data), overlay), "lang": lang})
        protocol.translations[lang] = localized
    return protocol


@lru_cache(maxsize=1)
def default_protocol() -> Protocol:
    """The protocol shipped with the service, loaded once."""
    return load_protocol()
