"""The triage engine: symptom mentions + context -> level, categories, guidance, questions.

Pure functions over the protocol data; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from app.nlu.models import MessageParse, SymptomMention
from app.triage.protocol import Protocol

IN_WINDOW = frozenset({"during", "within_2h"})
# Intents of a message that may be a complaint nobody could read ("打完了 在观察室坐着" is
# timing, not a complaint).
COMPLAINT_INTENTS = frozenset({"report_symptom", "nlu_fallback"})
ASK_INTENT_PREFIX = "ask_"
# With no topic phrase found, an ask_<topic> intent alone names the topic only when sure.
TOPIC_INTENT_MIN_CONFIDENCE = 0.5
SYMPTOM_QUESTION = "symptom_info"  # the ask_symptom_info intent


@dataclass(frozen=True)
class TriageContext:
    """What the conversation already knows (answers to earlier questions)."""

    infusion_window: str = "unknown"


@dataclass
class TriageResult:
    level: str
    categories: list[str]
    questions: list[str] = field(default_factory=list)
    infusion_window: str = "unknown"
    # The category each mention of the parse counted towards (its own one when not present).
    mention_categories: list[str | None] = field(default_factory=list)
    # The level was raised by the red-flag safety net, not by a recognised symptom.
    safety_net: bool = False
    # For each category, the patient's symptoms that led to it, as the bot names them.
    # Category -> (concept, modifiers) of the symptoms that led to it.
    reported: dict[str, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)
    # It reads like a health complaint, but no sign was recognised: the bot must ask.
    unrecognised_complaint: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TriageResult:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


def _categorise(
    mentions: list[SymptomMention],
    protocol: Protocol,
    in_window: bool,
    denied: frozenset[str] = frozenset(),
) -> tuple[list[tuple[int, str]], dict[int, str]]:
    """(text position, category) found, and the category of each mention by its id(),
    after window, combination and severity rules."""
    concepts = {mention.concept for mention in mentions}
    assigned: list[tuple[SymptomMention, str]] = []
    for mention in mentions:
        concept = protocol.concepts[mention.concept]
        category = concept.category
        if in_window and concept.in_window:
            if not concept.in_window_needs or concepts & concept.in_window_needs:
                category = concept.in_window
        assigned.append((mention, category))

    combined: list[tuple[int, str]] = []
    combined_of: dict[int, str] = {}
    consumed: set[str] = set()
    for combination in protocol.combinations:
        if not all(part in concepts for part in combination.all):
            continue
        if combination.any and not concepts.intersection(combination.any):
            continue
        if denied.intersection(combination.unless_denied):
            continue
        involved = [
            m for m in mentions if m.concept in combination.all or m.concept in combination.any
        ]
        if combination.modifiers and not any(
            m.concept in combination.all and all(getattr(m, mod) for mod in combination.modifiers)
            for m in involved
        ):
            continue
        combined.append((min(m.start for m in involved), combination.category))
        for m in involved:
            if m.concept in combination.all:
                combined_of.setdefault(id(m), combination.category)
        if combination.replaces:
            rank = protocol.rank(protocol.level_of(combination.category))
            # A combination never hides a part that is already at a higher level.
            consumed.update(
                m.concept
                for m, category in assigned
                if m.concept in combination.all
                and (category is None or protocol.rank(protocol.level_of(category)) <= rank)
            )

    result = list(combined)
    by_mention: dict[int, str] = {}
    for mention, category in assigned:
        if mention.concept in consumed or category is None:
            if mention.concept in consumed or id(mention) in combined_of:
                by_mention[id(mention)] = combined_of.get(id(mention), category)
            continue
        prolonged = mention.prolonged and category not in protocol.prolonged_is_usual
        routine = protocol.level_of(category) == protocol.severity_from_level
        if routine and (mention.severe or prolonged):
            category = protocol.severity_category
        result.append((mention.start, category))
        by_mention[id(mention)] = category
    return result, by_mention


def _categories_of_concept(concept: str, protocol: Protocol) -> set[str]:
    """Every category a concept can count towards (alone, in the window, combined)."""
    spec = protocol.concepts[concept]
    found = {c for c in (spec.category, spec.in_window) if c}
    found.update(c.category for c in protocol.combinations if concept in c.all or concept in c.any)
    if spec.category and protocol.level_of(spec.category) == protocol.severity_from_level:
        found.add(protocol.severity_category)
    return found


def _ordered(found: Iterable[tuple[int, str]], protocol: Protocol) -> list[str]:
    """Distinct categories, highest level first, then order of appearance."""
    ranked = sorted(found, key=lambda item: (-protocol.rank(protocol.level_of(item[1])), item[0]))
    return list(dict.fromkeys(category for _, category in ranked))


# Modifiers that name a reported symptom more exactly ("a sudden severe headache").
LABEL_MODIFIERS = ("sudden", "severe")


def _reported(
    mentions: list[SymptomMention], by_mention: dict[int, str]
) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Category -> the patient's symptoms that led to it: (concept, modifiers); the reply
    names them in the patient's language (app/triage/reply.py)."""
    reported: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for mention in mentions:
        category = by_mention.get(id(mention))
        if category is None:
            continue
        named = (mention.concept, tuple(w for w in LABEL_MODIFIERS if getattr(mention, w)))
        found = reported.setdefault(category, [])
        if named not in found:
            found.append(named)
    return reported


def _from_mentions(
    parse: MessageParse, protocol: Protocol, context: TriageContext | None = None
) -> TriageResult:
    """The triage the mentions give, before the safety net."""
    context = context or TriageContext()
    window = (
        parse.infusion_window if parse.infusion_window != "unknown" else context.infusion_window
    )
    in_window = window in IN_WINDOW
    present = [m for m in parse.symptoms if m.present]

    def categories_of(by_mention: dict[int, str]) -> list[str | None]:
        return [
            by_mention.get(id(m), protocol.concepts[m.concept].category) for m in parse.symptoms
        ]

    categories: list[str] = []
    if present:
        denied = frozenset(m.concept for m in parse.symptoms if m.negated)
        found, by_mention = _categorise(present, protocol, in_window, denied)
        categories = _ordered(found, protocol)
    if categories:
        level = max((protocol.level_of(c) for c in categories), key=protocol.rank)
        questions = []
        if window == "unknown" and level != "emergency":
            if any(protocol.concepts[m.concept].asks_window for m in present):
                questions.append("infusion_window")
        return TriageResult(
            level,
            categories,
            questions,
            window,
            categories_of(by_mention),
            reported=_reported(present, by_mention),
        )

    # No symptom reported now: a question about the medicine or about a symptom is `info`
    # (whoever it would happen to: "万一他出现胸闷气短 要叫救护车吗").
    hypothetical = [m for m in parse.symptoms if m.hypothetical and not (m.negated or m.historical)]
    asked = parse.is_question or parse.intent.name.startswith(ASK_INTENT_PREFIX)
    topics = list(dict.fromkeys(t.topic for t in parse.topics if not t.negated)) if asked else []
    if (
        not topics
        and not hypothetical
        and parse.intent.name.startswith(ASK_INTENT_PREFIX)
        and parse.intent.confidence >= TOPIC_INTENT_MIN_CONFIDENCE
    ):
        topic = parse.intent.name.removeprefix(ASK_INTENT_PREFIX)
        # ... but not a topic a statement denies ("no side effects at all")
        denied = {t.topic for t in parse.topics if t.negated and not parse.is_question}
        if topic in protocol.info_topics and topic not in denied:
            topics = [topic]
    if (
        not topics
        and not hypothetical
        and parse.is_question
        and protocol.symptom_question_topic
        and not any(m.present for m in parse.symptoms)
        and _asks_about_effects(parse)
    ):
        # "can this drug make you go blind?": a question about side effects whose sign the
        # lexicon does not know is answered for the condition it names, or with the
        # overview, never ignored.
        named = [c for c in parse.conditions if c in protocol.categories]
        if named:
            return TriageResult("info", named, [], window, categories_of({}))
        topics = [protocol.symptom_question_topic]
    if hypothetical or topics:
        found, by_mention = _categorise(hypothetical, protocol, in_window)
        symptom_categories = _ordered(found, protocol)
        categories = symptom_categories + [t for t in topics if t not in symptom_categories]
        return TriageResult("info", categories, [], window, categories_of(by_mention))
    return TriageResult("none", [], [], window, categories_of({}))


def _asks_about_effects(parse: MessageParse) -> bool:
    """A question about what the medicine does: the symptom-question intent, or a symptom
    report's wording that names the medicine ("is there an eye problem with this drug?")."""
    intent = parse.intent
    if parse.conditions:
        return True
    if intent.name == ASK_INTENT_PREFIX + SYMPTOM_QUESTION:
        if intent.confidence >= TOPIC_INTENT_MIN_CONFIDENCE:
            return True
    return parse.names_medicine and intent.name in (
        "report_symptom",
        "nlu_fallback",
        ASK_INTENT_PREFIX + SYMPTOM_QUESTION,
    )


COMPLAINT_INTENT = "report_symptom"


def triage(
    parse: MessageParse, protocol: Protocol, context: TriageContext | None = None
) -> TriageResult:
    """Triage one parsed message under the protocol: its mentions, then the safety net."""
    result = _safety_net(_from_mentions(parse, protocol, context), parse, protocol)
    if result.level == "none" and parse.intent.name == COMPLAINT_INTENT:
        # An NLU miss must become a question, never silence (the dialogue screens for red
        # flags); marked so the API and the coordinator see it.
        result.unrecognised_complaint = True
    return result


def _safety_net(result: TriageResult, parse: MessageParse, protocol: Protocol) -> TriageResult:
    """Raise the level when the safety net is confident of a red flag the mentions missed."""
    threshold = protocol.safety_net_min_confidence
    if not parse.symptoms and not parse.is_question and parse.intent.name in COMPLAINT_INTENTS:
        threshold = protocol.safety_net_min_confidence_unrecognised
    if threshold is None or parse.red_flag_guess is None:
        return result
    category, confidence = parse.red_flag_guess
    if confidence < threshold or category not in protocol.categories:
        return result
    level = protocol.level_of(category)
    if not protocol.is_red(level) or protocol.rank(level) <= protocol.rank(result.level):
        return result
    if category in protocol.window_only_categories and result.infusion_window == "later":
        return result  # an infusion reaction guessed for a message told outside the window
    # The lexicon saw a symptom that can lead to that category, and the rules decided it
    # does not here (negated, a relative's, outside the infusion window, not the whole
    # combination): the words and the protocol decide, not the guess.
    reachable = {
        reached for m in parse.symptoms for reached in _categories_of_concept(m.concept, protocol)
    }
    if category in reachable:
        return result
    reported = [c for c in result.categories if c in protocol.categories]
    categories = [category, *[c for c in reported if c != category]]
    return TriageResult(
        level,
        categories,
        [],
        result.infusion_window,
        result.mention_categories,
        safety_net=True,
        reported=result.reported,
    )
