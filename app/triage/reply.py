"""What the patient is told for a triage result, rendered once (pure).

The chat actions and the stateless triage JSON both use `reply_lines`; which responses a
level or category shows is protocol data (`levels`, `categories.*.action`, `responses`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.triage.engine import TriageResult
from app.triage.protocol import GuidanceLine, Protocol


@dataclass(frozen=True)
class ReplyLine:
    text: str
    source: str
    response: str | None = None  # the protocol response it renders (QA fixtures check it)
    document: str | None = None  # the title of the document it quotes, if it does

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "source": self.source}

    def custom(self) -> dict[str, Any]:
        """What a bot message carries besides its text."""
        custom: dict[str, Any] = {"source": self.source}
        if self.response:
            custom["response"] = self.response
        if self.document:
            custom["document"] = self.document
        return custom


@dataclass(frozen=True)
class AlertNotice:
    """The care team has been alerted; what the patient is told about a reply."""

    clinic_open: bool
    hours: str
    reply_time: str


def _line(protocol: Protocol, line: GuidanceLine, text: str | None = None, response=None):
    document = protocol.document.title if protocol.document.quoted_by(line.source) else None
    return ReplyLine(text or line.text, line.source, response, document)


def response_line(
    protocol: Protocol, name: str, window: str = "unknown", **values: str
) -> ReplyLine | None:
    """A protocol response worded for the infusion window, its {placeholders} filled (None
    when it has nothing to say for that window)."""
    line = protocol.responses[name]
    text = line.for_window(window)
    if text is None:
        return None
    return _line(protocol, line, fill(text, values), name)


def fill(text: str, values: dict[str, str]) -> str:
    """A response's `{name}` placeholders replaced by the values given (others left)."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def label(protocol: Protocol, concept: str, modifiers: tuple[str, ...]) -> str:
    """A reported symptom as the bot names it: "a tight throat", "a sudden severe
    headache" (the protocol's concept labels and modifier words)."""
    text = protocol.concepts[concept].label
    words = [protocol.modifier_words.get(m, m) for m in modifiers]
    words = [w for w in words if w not in text]
    if not words:
        return text
    joiner = protocol.modifier_joiner
    article, _, rest = text.partition(" ")
    if rest and article in protocol.articles:
        return joiner.join([article, *words, rest])
    return joiner.join([*words, text])


def names(labels: list[str], protocol: Protocol) -> str:
    """'hives', 'hives and itching', 'hives, itching and flushing' (the protocol's
    list_words)."""
    if len(labels) <= 1:
        return "".join(labels)
    return protocol.list_separator.join(labels[:-1]) + protocol.list_last + labels[-1]


def reply_lines(
    result: TriageResult, protocol: Protocol, alert: AlertNotice | None = None
) -> list[ReplyLine]:
    """The action first (emergency) or the instruction (urgent), then why, in the patient's
    own terms, then that the care team has been alerted (only when `alert` says so). Self-care
    advice only in routine and info replies, never after an urgent or emergency one."""
    level = result.level
    spec = protocol.levels[level]
    red = protocol.is_red(level)
    at_level = [
        c for c in result.categories if c in protocol.categories and protocol.level_of(c) == level
    ]
    window = result.infusion_window
    opening: list[str] = []
    if level == "emergency":
        opening = [name for c in at_level for name in protocol.categories[c].action]
    elif spec.opens_with:
        stop = any(protocol.categories[c].stop_next_dose for c in at_level)
        opening = [(stop and spec.opens_with_stop_dose) or spec.opens_with]
    lines = [response_line(protocol, name, window) for name in opening]

    explained = [
        c
        for c in result.categories
        if c in protocol.info_topics or not red or protocol.is_red(protocol.level_of(c))
    ]
    for category in explained:
        if category in protocol.info_topics:
            lines += [_line(protocol, line) for line in protocol.info_topics[category].answer]
            continue
        labels = [label(protocol, c, mods) for c, mods in result.reported.get(category, [])]
        reported = names(list(dict.fromkeys(labels)), protocol)
        for line in protocol.categories[category].guidance:
            if line.self_care and red:
                continue
            text = None
            if reported and line.reported:
                text = line.reported.replace("{reported_lower}", reported).replace(
                    "{reported}", reported[:1].upper() + reported[1:]
                )
            lines.append(_line(protocol, line, text))
    lines += [response_line(protocol, name, window) for name in spec.closes_with]
    if alert is not None and red:
        if alert.clinic_open:
            lines.append(
                response_line(
                    protocol,
                    "utter_care_team_alerted",
                    hours=alert.hours,
                    reply_time=alert.reply_time,
                )
            )
        else:
            lines.append(
                response_line(
                    protocol,
                    "utter_care_team_alerted_closed",
                    hours=alert.hours,
                    instead=spec.outside_hours or "",
                )
            )
    unique: dict[str, ReplyLine] = {}
    for line in lines:
        if line is not None:
            unique.setdefault(line.text, line)
    return list(unique.values())
