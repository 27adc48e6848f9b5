"""One decision per turn: the message is understood once and triaged once, with what the
conversation already knows (an open timing question and the symptoms waiting for it).

The dialogue runner decides and hands the decision to the policy and the actions inside
the tracker's latest message; the actions only render it. A real Rasa server calling our
actions has no decision there, so the actions decide with this same function.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from app.nlu.models import IntentPrediction, MessageParse, SymptomMention
from app.nlu.pipeline import UnsupportedLanguageError
from app.triage.engine import TriageContext, TriageResult, triage
from app.triager import Triager

WINDOW_QUESTION = "infusion_window"
UNSUPPORTED_LANGUAGE = "unsupported_language"
DECISION_KEY = "triage_decision"  # where the decision rides in the tracker's latest message
ANSWER_INTENTS = frozenset({"affirm", "deny", "inform_infusion_timing"})
_PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_][\w-]*)(?P<entities>\{.*\})?\s*$", re.DOTALL)


@dataclass
class TurnDecision:
    """What this turn is: its parse, intent and the triage the bot acts on."""

    parse: dict[str, Any]
    intent: str
    result: TriageResult | None = None
    # The open timing question: answered by this message, or a try that was unclear.
    answered: bool = False
    unclear_answer: bool = False
    # The message reports symptoms of its own (not only the ones waiting for the answer).
    new_symptoms: bool = False
    # The symptoms to keep while the timing question is open (all those triaged here).
    mentions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def level(self) -> str:
        return self.result.level if self.result else "none"

    @property
    def unrecognised(self) -> bool:
        """It reads like a health complaint, but no sign was recognised."""
        return bool(self.result) and self.result.unrecognised_complaint

    @property
    def asks_window(self) -> bool:
        return bool(self.result) and WINDOW_QUESTION in self.result.questions

    def to_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "result": self.result.to_dict() if self.result else None,
            "answered": self.answered,
            "unclear_answer": self.unclear_answer,
            "new_symptoms": self.new_symptoms,
            "mentions": self.mentions,
        }

    @classmethod
    def from_parse(cls, parse: dict[str, Any]) -> TurnDecision | None:
        """The decision the runner put in a latest message, if any."""
        data = parse.get(DECISION_KEY)
        if not isinstance(data, dict):
            return None
        result = data.get("result")
        return cls(
            parse=parse,
            intent=data["intent"],
            result=TriageResult.from_dict(result) if result else None,
            answered=data["answered"],
            unclear_answer=data["unclear_answer"],
            new_symptoms=data["new_symptoms"],
            mentions=data["mentions"],
        )


def parse_payload(text: str) -> tuple[str, list[dict[str, Any]]] | None:
    """A Rasa button payload ("/inform_infusion_timing{"infusion_window": "during"}")."""
    match = _PAYLOAD.match(text.strip())
    if match is None:
        return None
    entities = []
    if match.group("entities"):
        try:
            values = json.loads(match.group("entities"))
        except json.JSONDecodeError:
            return None
        if not isinstance(values, dict):
            return None
        entities = [{"entity": k, "value": v} for k, v in values.items() if isinstance(v, str)]
    return match.group("intent"), entities


def _window_answer(
    intent: str,
    entities: list[dict[str, Any]],
    message: MessageParse | None,
    text: str,
    unsure: tuple[str, ...],
) -> str | None:
    """The infusion window an answer gives, or None when it gives none or is unclear."""
    for entity in entities:
        if entity.get("entity") == "infusion_window" and entity.get("value"):
            return str(entity["value"])
    if message is not None and message.infusion_window != "unknown":
        # "when is my next infusion due?" asks something else; it answers nothing.
        if not (message.is_question and intent not in ANSWER_INTENTS):
            return message.infusion_window
    if _unsure(text, unsure):
        return None
    # The question asks whether the infusion is running or ended less than 2 hours ago.
    return {"affirm": "during", "deny": "later"}.get(intent)


def _unsure_answers(triager: Triager, message: MessageParse | None) -> tuple[str, ...]:
    """The "not sure" answers of the message's language (its rule file's unsure_answers)."""
    lang = message.lang if message else "en"  # a button payload has no language
    return triager.nlu.models[lang].extractor.rules.unsure_answers


def _unsure(text: str, unsure: tuple[str, ...]) -> bool:
    # "not sure" is no answer to the timing question: ask again rather than assume "no".
    return any(cue in text.casefold() for cue in unsure)


def _waiting(slots: dict[str, Any]) -> list[SymptomMention]:
    """The symptoms waiting for the timing answer (none when no question is open)."""
    if slots.get("pending_question") != WINDOW_QUESTION:
        return []
    mentions = []
    for data in slots.get("pending_symptoms") or []:
        try:
            mentions.append(SymptomMention(**data))
        except TypeError:  # written by another version: ask afresh rather than guess
            return []
    return mentions


def decide(triager: Triager, text: str, slots: dict[str, Any]) -> TurnDecision:
    """Understand and triage one patient message (one NLU parse)."""
    payload = parse_payload(text)
    message: MessageParse | None = None
    entities: list[dict[str, Any]] = []
    if payload is not None:
        intent, entities = payload
        parse: dict[str, Any] = {
            "text": text,
            "intent": {"name": intent, "confidence": 1.0},
            "intent_ranking": [{"name": intent, "confidence": 1.0}],
            "entities": entities,
        }
    else:
        try:
            # The language of each message is detected: patients switch, widgets guess.
            message = triager.parse(text)
        except UnsupportedLanguageError:
            # Unreadable here is not "nothing wrong": the policy hands it to a person.
            intent = UNSUPPORTED_LANGUAGE
            named = {"name": intent, "confidence": 1.0}
            parse = {"text": text, "intent": named, "intent_ranking": [named], "entities": []}
            return TurnDecision(parse=parse, intent=intent)
        parse = message.to_rasa()
        intent = message.intent.name

    protocol = triager.protocol
    own = [m for m in (message.symptoms if message else []) if m.present]
    waiting = _waiting(slots)
    if not waiting:
        window = slots.get("infusion_window") or "unknown"
        result = triage(message, protocol, TriageContext(window)) if message else None
        mentions = [m.to_dict() for m in message.symptoms] if message else []
        return TurnDecision(parse, intent, result, new_symptoms=bool(own), mentions=mentions)

    # A timing question is open: the waiting symptoms count with this message's.
    unsure = _unsure_answers(triager, message)
    answer = _window_answer(intent, entities, message, text, unsure)
    shift = max(m.end for m in waiting) + 1
    added = [_shifted(m, shift) for m in (message.symptoms if message else [])]
    merged = MessageParse(
        text=text,
        lang=message.lang if message else "en",
        intent=message.intent if message else IntentPrediction(intent, 1.0),
        symptoms=waiting + added,
        is_question=bool(message and message.is_question),
        infusion_window=answer or "unknown",
        red_flag_guess=message.red_flag_guess if message else None,
    )
    mentions = [m.to_dict() for m in merged.symptoms]
    if answer is not None:
        result = triage(merged, protocol, TriageContext(answer))
        return TurnDecision(parse, intent, result, answered=True, new_symptoms=bool(own),
                            mentions=mentions)  # fmt: skip
    alone = triage(message, protocol) if message else None
    if own or (alone is not None and protocol.rank(alone.level) >= protocol.rank("routine")):
        result = triage(merged, protocol)
        return TurnDecision(parse, intent, result, new_symptoms=True, mentions=mentions)
    # Not an answer and nothing new to triage: what the message itself asks or says.
    unclear = intent in ANSWER_INTENTS or _unsure(text, unsure)
    return TurnDecision(parse, intent, alone, unclear_answer=unclear, mentions=mentions)


def _shifted(mention: SymptomMention, by: int) -> SymptomMention:
    """A mention placed after the waiting ones (order of appearance decides ties)."""
    data = mention.to_dict()
    data["start"] += by
    data["end"] += by
    return SymptomMention(**data)
