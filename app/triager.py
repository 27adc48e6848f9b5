"""The triage core as one object: NLU + protocol engine, loaded once, used everywhere."""

from __future__ import annotations

from typing import Any

from app.nlu.models import MessageParse
from app.nlu.pipeline import NLU
from app.nlu.timing import Thresholds
from app.triage.engine import TriageContext, TriageResult, triage
from app.triage.protocol import Protocol, default_protocol
from app.triage.reply import reply_lines
from app.triage.version import protocol_version


def thresholds_of(protocol: Protocol) -> Thresholds:
    """The protocol's numbers the NLU reads (window, infusion length, fever thresholds)."""
    return Thresholds(
        window_hours=protocol.window_hours,
        infusion_hours=protocol.infusion_hours,
        fever_celsius=protocol.fever_celsius,
        fever_celsius_by_language=tuple(sorted(protocol.fever_celsius_by_language.items())),
    )


class Triager:
    """Turns patient free text into the triage JSON of the design contract."""

    def __init__(self, protocol: Protocol | None = None) -> None:
        self.protocol = protocol or default_protocol()
        self.protocol_version = protocol_version()
        self.nlu = NLU(
            concepts=frozenset(self.protocol.concepts),
            topics=frozenset(self.protocol.info_topics),
            thresholds=thresholds_of(self.protocol),
        )

    def parse(self, text: str, lang: str | None = None) -> MessageParse:
        return self.nlu.parse(text, lang)

    def assess(
        self, text: str, lang: str | None = None, context: TriageContext | None = None
    ) -> tuple[MessageParse, TriageResult]:
        parse = self.nlu.parse(text, lang)
        return parse, triage(parse, self.protocol, context)

    def triage_json(
        self, text: str, lang: str | None = None, context: TriageContext | None = None
    ) -> dict[str, Any]:
        parse, result = self.assess(text, lang, context)
        return to_json(parse, result, self.protocol)


def to_json(parse: MessageParse, result: TriageResult, protocol: Protocol) -> dict[str, Any]:
    """The triage JSON shape of design.md."""
    return {
        "level": result.level,
        "categories": result.categories,
        "symptoms": [
            {
                "concept": m.concept,
                "category": category,
                "text": m.text,
                "start": m.start,
                "end": m.end,
                "negated": m.negated,
                "hypothetical": m.hypothetical,
                "historical": m.historical,
                "family": m.family,
                "uncertain": m.uncertain,
                "severe": m.severe,
                "sudden": m.sudden,
                "persistent": m.persistent,
                "prolonged": m.prolonged,
            }
            for m, category in zip(parse.symptoms, result.mention_categories, strict=True)
        ],
        "intent": {"name": parse.intent.name, "confidence": round(parse.intent.confidence, 4)},
        # Stateless: no alert is raised here, so no "your care team has been alerted".
        "guidance": [
            line.to_dict() for line in reply_lines(result, protocol.for_language(parse.lang))
        ],
        "questions": result.questions,
        "safety_net": result.safety_net,
        "unrecognised_complaint": result.unrecognised_complaint,
        "lang": parse.lang,
        "infusion_window": result.infusion_window,
        "months_since_stopped": parse.months_since_stopped,
    }
