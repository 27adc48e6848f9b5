"""What the NLU finds in one message."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

CONTEXT_FLAGS = ("negated", "hypothetical", "historical", "family", "uncertain")


@dataclass(slots=True)
class SymptomMention:
    """A symptom concept found in the text, with its ConText flags and modifiers."""

    concept: str
    text: str
    start: int
    end: int
    negated: bool = False
    hypothetical: bool = False
    historical: bool = False
    family: bool = False
    uncertain: bool = False
    severe: bool = False
    sudden: bool = False
    persistent: bool = False
    prolonged: bool = False
    # Severity said inside a relative's scope: the patient's after all when the writer
    # turns out to be a carer reporting that relative ("my husband's pain is unbearable").
    _relative_severe: bool = False

    @property
    def present(self) -> bool:
        """The patient reports having it now (uncertain reports count, rule 4)."""
        return not (self.negated or self.hypothetical or self.historical or self.family)

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if not key.startswith("_")}


@dataclass(slots=True)
class TopicMention:
    """An information topic asked about ("how often is the infusion?" -> dosing)."""

    topic: str
    text: str
    start: int
    end: int
    negated: bool = False


@dataclass(slots=True)
class IntentPrediction:
    name: str
    confidence: float


@dataclass(slots=True)
class MessageParse:
    """Intent, symptoms, topics and timing of one message."""

    text: str
    lang: str
    intent: IntentPrediction
    intent_ranking: list[IntentPrediction] = field(default_factory=list)
    symptoms: list[SymptomMention] = field(default_factory=list)
    topics: list[TopicMention] = field(default_factory=list)
    is_question: bool = False
    infusion_window: str = "unknown"
    months_since_stopped: float | None = None
    names_medicine: bool = False
    conditions: list[str] = field(default_factory=list)  # categories whose condition it names
    # The safety net's guess at the level-setting category (or info/none), and its confidence.
    red_flag_guess: tuple[str, float] | None = None

    def to_rasa(self) -> dict[str, Any]:
        """Rasa's parse shape: text, intent, intent_ranking, entities (with context flags)."""
        entities: list[dict[str, Any]] = []
        for mention in self.symptoms:
            entity = {
                "entity": "symptom",
                "value": mention.concept,
                "start": mention.start,
                "end": mention.end,
                "text": mention.text,
                "confidence_entity": 1.0,
                "extractor": "TriageLexiconExtractor",
            }
            entity.update({flag: getattr(mention, flag) for flag in CONTEXT_FLAGS})
            entity.update(
                {
                    "severe": mention.severe,
                    "sudden": mention.sudden,
                    "persistent": mention.persistent,
                    "prolonged": mention.prolonged,
                }
            )
            entities.append(entity)
        for topic in self.topics:
            entities.append(
                {
                    "entity": "info_topic",
                    "value": topic.topic,
                    "start": topic.start,
                    "end": topic.end,
                    "text": topic.text,
                    "confidence_entity": 1.0,
                    "extractor": "TriageLexiconExtractor",
                }
            )
        return {
            "text": self.text,
            "lang": self.lang,
            "intent": {"name": self.intent.name, "confidence": round(self.intent.confidence, 4)},
            "intent_ranking": [
                {"name": p.name, "confidence": round(p.confidence, 4)} for p in self.intent_ranking
            ],
            "entities": entities,
            "infusion_window": self.infusion_window,
            "months_since_stopped": self.months_since_stopped,
        }
