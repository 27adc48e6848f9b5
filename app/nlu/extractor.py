"""Symptom and topic extraction with context, for one language."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from app.nlu.context import FLAGS, ContextRules, is_question
from app.nlu.lexicon import BLOCKER, SURFACE_PREFIX, Lexicon, PhraseMatch
from app.nlu.models import SymptomMention, TopicMention
from app.nlu.sound import is_han, sound_keys
from app.nlu.spelling import SpellingCorrector
from app.nlu.text import Token, clean, join_words, normalize_phrase, stem, tokenize
from app.nlu.timing import (
    DEFAULT_THRESHOLDS,
    EDGE_AFTER,
    EDGE_BEFORE,
    Thresholds,
    TimeWords,
    TimingRules,
    temperature_value,
)
from app.nlu.training_data import TrainingData

CONDITION_PREFIX = "condition_"  # lookups naming a category's conditions


_NO_KEYS: frozenset[str] = frozenset()


@lru_cache(maxsize=65536)
def word_keys(word: str) -> frozenset[str]:
    """What a message word can match in the lexicon: its stem, its exact form and, for a
    Chinese character, its readings (for IME slips)."""
    keys = frozenset({stem(word), SURFACE_PREFIX + word})
    return keys | sound_keys(word) if is_han(word) else keys


@dataclass(slots=True)
class Extraction:
    """Mentions and message-level timing found by the extractor."""

    symptoms: list[SymptomMention]
    topics: list[TopicMention]
    is_question: bool
    infusion_window: str
    months_since_stopped: float | None
    normalized: str
    names_medicine: bool = False  # the message names natalizumab (or "the drug", "it")
    # Protocol categories whose condition the message names ("stroke", "thrombocytopenia").
    conditions: list[str] = field(default_factory=list)


def _any_of(phrases: list[str]) -> re.Pattern[str]:
    """One pattern for whole-word matches of any of the phrases."""
    words = "|".join(re.escape(p.lower()) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"{EDGE_BEFORE}(?:{words}){EDGE_AFTER}" if words else r"(?!)")


def _refuse_shorthand_in_phrases(tables: Mapping[str, list[str]], rules: ContextRules) -> None:
    """Shorthand is expanded in messages only, so a lexicon or lookup phrase holding it
    could never match: the loader says so and asks for the expansion (好痕 -> 好痒)."""
    if not rules.shorthand:
        return
    for concept, phrases in tables.items():
        for phrase in phrases:
            cleaned = clean(phrase)
            for pattern, words in rules.shorthand:
                found = pattern.search(cleaned)
                if found:
                    raise ValueError(
                        f"nlu_data/{rules.lang} {concept}: the phrase {phrase!r} holds the "
                        f"shorthand {found.group()!r}, which messages read as "
                        f"{found.expand(words)!r}: write that instead"
                    )


class Extractor:
    """Finds symptom concepts and info topics in patient text, with ConText flags."""

    def __init__(
        self,
        data: TrainingData,
        rules: ContextRules,
        topics: frozenset[str],
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
    ) -> None:
        self.rules = rules
        symptom_synonyms = {k: v for k, v in data.synonyms.items() if k not in topics}
        topic_synonyms = {k: v for k, v in data.synonyms.items() if k in topics}
        for phrase in data.lookups.get("not_symptom", []):
            content = [
                w for w in normalize_phrase(phrase, rules.normalize) if w not in rules.glue_words
            ]
            if len(content) < 2:
                # A one-word blocker ("was a headache" -> "headache") would hide every
                # mention of that word.
                raise ValueError(
                    f"nlu_data lookup not_symptom: {phrase!r} keeps fewer than 2 words"
                )
        _refuse_shorthand_in_phrases({**data.synonyms, **data.lookups}, rules)
        self.lexicon = Lexicon(
            {
                "symptom": symptom_synonyms,
                "info_topic": topic_synonyms,
                BLOCKER: {"not_symptom": data.lookups.get("not_symptom", [])},
            },
            normalize=rules.normalize,
            glue_words=rules.glue_words,
            surface_only=rules.surface_only,
            never_slips=rules.never_slips,
        )
        vocabulary = self.lexicon.words | rules.vocabulary()
        for examples in data.lookups.values():
            for example in examples:
                vocabulary.update(example.lower().split())
        self.speller = SpellingCorrector(vocabulary, language=rules.spelling_dictionary)
        # "it" stands for the medicine elsewhere, not as a name of it.
        self.medicine = _any_of([n for n in data.lookups.get("medication", []) if len(n) > 2])
        self.conditions = [
            (table.removeprefix(CONDITION_PREFIX), _any_of(names))
            for table, names in data.lookups.items()
            if table.startswith(CONDITION_PREFIX)
        ]
        self.timing = TimingRules.from_config(
            rules.infusion_window, thresholds, words=TimeWords.from_config(rules.time_words)
        )
        self.severe_patterns = [re.compile(p) for p in rules.severe_patterns]
        self.prolonged_patterns = [re.compile(p) for p in rules.prolonged_patterns]
        duration = f"(?P<dur>{self.timing.words.duration})"
        self.long_duration = [
            re.compile(pattern.replace("DUR", duration)) for pattern in rules.long_duration_patterns
        ]
        self.temperature_patterns = [
            re.compile(pattern, re.IGNORECASE) for pattern in data.regexes.get("temperature", [])
        ]

    def extract(self, text: str) -> Extraction:
        tokens = tokenize(
            text,
            normalize=self.rules.normalize,
            sentence_breaks=self.rules.sentence_breaks,
            correct=self.speller.correct,
            shorthand=self.rules.shorthand,
        )
        sentences: dict[int, list[Token]] = defaultdict(list)
        for token in tokens:
            sentences[token.sentence].append(token)
        words_all = [token.text for token in tokens]
        proxy = self.rules.has_patient_proxy(words_all)
        symptoms: list[SymptomMention] = []
        topics: list[TopicMention] = []
        question = False
        previous: list[SymptomMention] = []
        previous_hypothetical = False
        asked: list[SymptomMention] = []  # the symptoms of a question just asked
        asked_bare = False  # ... and the question was nothing but the sign ("chills?")
        for sentence_tokens in sentences.values():
            sentence_question = is_question(
                sentence_tokens, self.rules.question_starts, self.rules.question_words
            )
            question = question or sentence_question
            found_symptoms, found_topics, (severe, prolonged, hypothetical) = self._sentence(
                text, sentence_tokens, is_question=sentence_question, patient_proxy=proxy
            )
            if (severe or prolonged) and all(m.negated for m in found_symptoms):
                # "Headache after infusions. This time it's been going for 10 days." - the
                # severity is about the symptom of the sentence before (also past a denied
                # one: "Nausea ... Not actually throwing up but it's so bad ...").
                for mention in previous:
                    mention.severe = mention.severe or severe
                    mention.prolonged = mention.prolonged or prolonged
            # "can it cause eye problems? like floaters?" - the example shares the question.
            words = [t.text for t in sentence_tokens if t.is_word]
            # Asked, then answered no: "chills? nope." denies the sign; "刷牙出血算不算要注意？
            # 我现在没有" asks about a sign the writer does not have (a "no" that names another
            # sign, "我没有发烧", denies only that one: below).
            if (
                asked
                and not found_symptoms
                and self.rules.answers_no([t.text for t in sentence_tokens])
            ):
                for mention in asked:
                    if asked_bare:
                        mention.negated = True
                    else:
                        mention.hypothetical = True
            denied_now = {m.concept for m in found_symptoms if m.negated}
            for mention in asked:  # "any fever? no fever but ..." - denied by name
                if mention.concept in denied_now:
                    mention.negated = True
            asked = found_symptoms if sentence_question else []
            named = sum(len(m.text) for m in asked)
            asked_bare = bool(asked) and named * 2 >= sum(len(word) for word in words)
            # "...what counts as abnormal bleeding? bruises? periods?" - so do bare examples.
            bare_example = sentence_question and len(words) <= 2
            if previous_hypothetical and (
                words[:1] in (["like"], ["such"], ["eg"], ["or"]) or bare_example
            ):
                for mention in found_symptoms:
                    mention.hypothetical = True
            previous_hypothetical = hypothetical
            if found_symptoms:
                previous = found_symptoms
            symptoms.extend(found_symptoms)
            topics.extend(found_topics)
        symptoms.sort(key=lambda m: (m.start, m.end))
        self._carer_report(symptoms, words_all)
        normalized = join_words([token.text for token in tokens if token.is_word])
        return Extraction(
            symptoms=symptoms,
            topics=topics,
            is_question=question,
            infusion_window=self.timing.infusion_window(normalized, text),
            months_since_stopped=self.timing.months_since_stopped(normalized),
            normalized=normalized,
            names_medicine=bool(self.medicine.search(normalized)),
            conditions=list(
                dict.fromkeys(c for c, name in self.conditions if name.search(normalized))
            ),
        )

    # ------------------------------------------------------------------ sentences

    def _sentence(
        self, text: str, tokens: list[Token], *, is_question: bool, patient_proxy: bool
    ) -> tuple[list[SymptomMention], list[TopicMention], tuple[bool, bool, bool]]:
        """Mentions and topics of one sentence, and whether it describes severity, a long
        duration, and asks a hypothetical question."""
        words = [token.text for token in tokens]
        keys = [word_keys(t.text) if t.is_word else _NO_KEYS for t in tokens]
        readings = self._temperatures(text, tokens)
        for position, fever in readings.items():
            if fever:  # a reading of 38.0 C / 100.4 F or more is the concept "fever"
                keys[position] = keys[position] | {"fever"}
        barriers = frozenset(i for i, word in enumerate(words) if word in self.rules.gap_barriers)
        breaks = frozenset(i for i, token in enumerate(tokens) if not token.is_word)
        matches = self.lexicon.match(keys, barriers, breaks)
        normal_reading: set[int] = set()
        if readings and not any(readings.values()):
            # "temp 37.2": the word "temp" names a normal reading, which denies a fever
            normal_reading = {
                id(m)
                for m in matches
                if m.phrase.value == "fever"
                and len(m.positions) == 1
                and words[m.first] in self.rules.fever_words
            }
        if not matches:
            hypothetical = bool(
                self.rules.scopes(words, self.rules.cues["hypothetical"], is_question=is_question)
            )
            return [], [], (self._severe(words), self._prolonged(words), hypothetical)
        scopes = {
            flag: self.rules.scopes(words, self.rules.cues[flag], is_question=is_question)
            for flag in FLAGS
            if not (flag == "family" and patient_proxy)
        }
        # Severity said of a relative or of the past ("my mum had terrible jaundice") is not
        # the patient's.
        elsewhere = {
            p
            for flag in ("family", "historical")
            for scope in scopes.get(flag, [])
            for p in [*scope.covered, *scope.cue]
        }
        severe, prolonged = self._severe(words, elsewhere), self._prolonged(words)
        relative_severe = not severe and bool(elsewhere) and self._severe(words)
        sudden = self._sudden(words)
        persistent = bool(self.rules.persistent.find_all(words))
        # "上次输液时就起过荨麻疹，这次又来了": what happened before is happening again now
        again = [start for start, _ in self.rules.recurrence.find_all(words)]
        symptoms: list[SymptomMention] = []
        topics: list[TopicMention] = []
        for match in matches:
            start = tokens[match.first].start
            end = tokens[match.last].end
            if match.phrase.entity == "info_topic":
                negated = _in_scope(match, scopes.get("negated", []), "negated")
                topics.append(
                    TopicMention(match.phrase.value, text[start:end], start, end, negated)
                )
                continue
            mention = SymptomMention(
                match.phrase.value,
                text[start:end],
                start,
                end,
                severe=severe,
                prolonged=prolonged,
                sudden=sudden,
                persistent=persistent,
                _relative_severe=relative_severe,
            )
            for flag, flag_scopes in scopes.items():
                if self.rules.cues[flag].nearest_only:
                    flag_scopes = _nearest(flag_scopes, match, matches)
                setattr(mention, flag, _in_scope(match, flag_scopes, flag))
            if id(match) in normal_reading:
                mention.negated = True
            if mention.historical and any(start > match.last for start in again):
                mention.historical = False
            symptoms.append(mention)
        hypothetical = bool(scopes["hypothetical"]) or any(m.hypothetical for m in symptoms)
        return symptoms, topics, (severe, prolonged, hypothetical)

    def _severe(self, words: list[str], ignored: set[int] | None = None) -> bool:
        """The sentence describes severity (outside the `ignored` positions)."""
        blocked = {
            p for start, end in self.rules.severe_pseudo.find_all(words) for p in range(start, end)
        } | (ignored or set())
        for start, end in self.rules.severe.find_all(words):
            # "not terrible", "no redness spreading": the severity itself is denied
            reach = self.rules.severe_negator_reach
            denied = self.rules.severe_negators.intersection(words[max(0, start - reach) : start])
            if not blocked.intersection(range(start, end)) and not denied:
                return True
        sentence = join_words(words)
        return any(pattern.search(sentence) for pattern in self.severe_patterns)

    def _sudden(self, words: list[str]) -> bool:
        """The sentence says something came on suddenly (and does not deny it)."""
        found = self.rules.sudden.find_all(words)
        if not found:
            return False
        denied = {
            p for start, end in self.rules.sudden_pseudo.find_all(words) for p in range(start, end)
        }
        return any(denied.isdisjoint(range(start, end)) for start, end in found)

    def _prolonged(self, words: list[str]) -> bool:
        """The sentence says something has lasted longer than long_duration_days."""
        sentence = join_words(words)
        if any(pattern.search(sentence) for pattern in self.prolonged_patterns):
            return True
        limit = self.rules.long_duration_days * 24
        for pattern in self.long_duration:
            for match in pattern.finditer(sentence):
                hours = self.timing.words.duration_hours(match.group("dur"))
                if hours is not None and hours > limit:
                    return True
        return False

    def _carer_report(self, symptoms: list[SymptomMention], words: list[str]) -> None:
        """A message reporting only a relative's current symptoms comes from a carer: the
        relative is the patient, and the symptoms count (the safer reading)."""
        if self.rules.shares_with_patient(words):
            for mention in symptoms:
                if mention.family and not (mention.negated or mention.hypothetical):
                    mention.family = False
                    mention.historical = False
            return
        # A writer who speaks of themselves ("I feel ...") reports their own symptoms; one
        # who never does ("my wife ... she's not making sense, asked me ...") is a carer.
        if any(m.present for m in symptoms) and self.rules.reports_self(words):
            return
        relatives = [
            m for m in symptoms if m.family and not (m.negated or m.hypothetical or m.historical)
        ]
        if relatives and not (
            self.rules.carer_blocked(words) or self.rules.names_only_others(words)
        ):
            for mention in relatives:
                mention.family = False
                mention.severe = mention.severe or mention._relative_severe
        elif self.rules.about_someone_else(words) and not self.rules.reports_self(words):
            # "Dad (he's 80, not on natalizumab) has had a cough and a temp": a message about
            # a relative who is not the patient, from a writer who says nothing of themselves.
            for mention in symptoms:
                mention.family = True

    # ------------------------------------------------------------------ temperatures

    def _temperatures(self, text: str, tokens: list[Token]) -> dict[int, bool]:
        """Positions of written temperatures in a sentence ("38.4", "101F"): fever or not."""
        readings: dict[int, bool] = {}
        fever_word = any(token.text in self.rules.fever_words for token in tokens)
        for position, token in enumerate(tokens):
            in_words = token.text in self.rules.numerals or token.text == self.rules.numeral_ten
            if not (token.text[:1].isdigit() or in_words):
                continue
            for pattern in self.temperature_patterns:
                match = pattern.match(text, token.start)
                if match is None or self.rules.not_temperature_after.match(text, match.end()):
                    continue
                reading = match.group().strip()
                number = re.match(r"\d+(?:[.,]\d+)?", reading)
                if number is None:  # written in words: 三十八度五
                    value, has_unit, has_decimal = self.rules.numeral_value(reading), True, False
                else:
                    value = temperature_value(number.group())
                    has_unit = reading != number.group()
                    has_decimal = "." in reading or "," in reading
                if value is None or not (has_unit or has_decimal or fever_word):
                    continue
                readings[position] = self.timing.thresholds.is_fever(value)
                break
        return readings


def _nearest(scopes: list, match: PhraseMatch, matches: list[PhraseMatch]) -> list:
    """The scopes whose cue has no other mention between it and this one."""
    return [
        scope
        for scope in scopes
        if not any(
            scope.cue.stop <= other.first < match.first and other.first not in scope.cue
            for other in matches
            if other.phrase.entity != "info_topic"
        )
    ]


def _in_scope(match: PhraseMatch, scopes: list, flag: str) -> bool:
    """Whether a cue's scope covers the mention.

    A negation cue inside the mention belongs to it ("bleeding will not stop"); any other
    cue sharing words with the mention applies to it ("can it turn your skin yellow?").
    """
    own = set(range(match.first, match.last + 1))
    for scope in scopes:
        overlaps = bool(set(scope.cue) & own)
        if flag == "negated":
            if match.first in scope.covered and not overlaps:
                return True
        elif match.first in scope.covered or overlaps:
            return True
    return False
