"""ConText-style context for symptom mentions, driven by the YAML rule table per language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.nlu.phrases import PhraseSet
from app.nlu.text import Token, normalize_phrase

CONTEXT_DIR = Path(__file__).resolve().parent / "context"
FLAGS = ("negated", "hypothetical", "historical", "family", "uncertain")
_YEAR_RE = re.compile(r"^(19[5-9]\d|20[0-2]\d)$")


class ContextRulesError(ValueError):
    """The rule table is malformed; the message names the entry."""


@dataclass(frozen=True)
class CueRule:
    """One context flag: cue phrases with their scope limits."""

    flag: str
    forward: PhraseSet
    backward: PhraseSet
    pseudo: PhraseSet
    question_only: PhraseSet
    terminators: PhraseSet
    patient_proxy: PhraseSet
    carer_blockers: PhraseSet
    # "he's not on natalizumab": the relative named is not the patient (family only)
    not_the_patient: PhraseSet
    carer_weak_blockers: PhraseSet
    self_report: PhraseSet
    # "我自己一切正常", "I'm fine myself": the writer speaks of themselves only to say so
    self_well: PhraseSet
    # people who are no carer's patient: colleagues, neighbours, pets, strangers
    others: PhraseSet
    on_the_drug: PhraseSet  # "my flatmate on tysabri": then such a person may be the patient
    recency_cues: PhraseSet
    proxy_blockers: PhraseSet
    shared_with_patient: PhraseSet
    max_tokens: int
    year_pattern: bool
    own_terminators_only: bool
    age_pattern: bool = False
    backward_max_tokens: int | None = None  # a shorter reach for backward cues
    # The cue applies to the nearest mention after it only (Chinese writes "没发烧皮肤发黄",
    # no fever, yellow skin, without a comma).
    nearest_only: bool = False


@dataclass(frozen=True)
class Scope:
    """Token positions covered by one cue, and the cue's own positions."""

    covered: range
    cue: range


class ContextRules:
    """A language's rule table: normalisation, terminators, cues and modifiers."""

    def __init__(self, data: dict[str, Any]) -> None:
        try:
            self.lang: str = data["lang"]
            # The dictionary that tells ordinary words from typos (English words inside
            # Chinese messages are checked against English).
            self.spelling_dictionary: str = data.get("spelling_dictionary") or self.lang
            self.normalize: dict[str, str] = {str(k): str(v) for k, v in data["normalize"].items()}
            self.glue_words = frozenset(data["glue_words"])
            self.never_slips = frozenset(data.get("never_slips") or [])
            self.surface_only = frozenset(data.get("surface_only") or [])
            self.gap_barriers = frozenset(data.get("gap_barriers") or [])
            self.sentence_breaks = frozenset(data["sentence_breaks"])
            # Shorthand matched in the text as written (case matters): pattern -> words.
            self.shorthand = [
                (re.compile(pattern), str(words))
                for pattern, words in (data.get("shorthand") or {}).items()
            ]
            self.terminators = PhraseSet(data["terminators"], self.normalize)
            self.cues = {flag: self._cue(flag, data["cues"][flag]) for flag in FLAGS}
            modifiers = data["modifiers"]
            self.severe = PhraseSet(modifiers["severe"], self.normalize)
            self.severe_pseudo = PhraseSet(modifiers["severe_pseudo"], self.normalize)
            self.severe_negators = frozenset(modifiers.get("severe_negators") or [])
            # How many words before a severity phrase a negator denies it ("not terrible");
            # one Chinese character (不严重), two English words ("not really bad").
            self.severe_negator_reach = int(modifiers.get("severe_negator_reach", 2))
            self.sudden = PhraseSet(modifiers["sudden"], self.normalize)
            # "not sudden", 不是突然开始的: words of suddenness that deny it
            self.sudden_pseudo = PhraseSet(modifiers.get("sudden_pseudo") or [], self.normalize)
            self.persistent = PhraseSet(modifiers.get("persistent") or [], self.normalize)
            # "…这次又来了", "…and it's back": a past sign said to be happening again
            self.recurrence = PhraseSet(modifiers.get("recurrence") or [], self.normalize)
            self.long_duration_days = float(modifiers["long_duration_days"])
            self.long_duration_patterns = list(modifiers["long_duration_patterns"])
            self.prolonged_patterns = list(modifiers.get("prolonged_patterns") or [])
            self.severe_patterns = list(modifiers.get("severe_patterns") or [])
            self.infusion_window: dict[str, Any] = data["infusion_window"]
            # Amounts of time and clock times (app/nlu/timing.py TimeWords).
            self.time_words: dict[str, Any] = data["time_words"]
            # Words that make a number a body temperature ("temp 37.2").
            self.fever_words = frozenset(data["fever_words"])
            # Numbers written in words, for temperatures (三十八度五): digit values, and the
            # marks of a tenth (度 / 点), a half (半) and "a bit over" (多).
            numerals = data.get("numerals") or {}
            self.numerals = {str(k): int(v) for k, v in (numerals.get("digits") or {}).items()}
            self.numeral_ten = str(numerals.get("ten") or "")
            self.numeral_marks = frozenset(numerals.get("decimal_marks") or [])
            self.numeral_half = str(numerals.get("half") or "")
            self.numeral_over = str(numerals.get("over") or "")
            # A number followed by one of these is no temperature ("38 years", "40 mg").
            self.not_temperature_after = re.compile(
                rf"^\s*(?:{'|'.join(data['not_temperature_after'])})\b", re.IGNORECASE
            )
            # Answers that say the patient does not know ("not sure", "no idea").
            self.unsure_answers = tuple(str(answer) for answer in data["unsure_answers"])
            # A sentence opening with one of these words is a question.
            self.question_starts = frozenset(data["question_starts"])
            # Anywhere in a sentence, these make it a question (Chinese 吗, 会不会, 请问).
            self.question_words = PhraseSet(data.get("question_words") or [], self.normalize)
            # "when i was 6", "aged twelve": an age the person has passed.
            self.age_leads = tuple(tuple(lead.split()) for lead in data["age_leads"])
            self.age_numbers = frozenset(data["age_numbers"])
            self._age_lead_words = frozenset(lead[0] for lead in self.age_leads if lead)
            # "did I have a fit? no." - a whole sentence that only answers no
            self.negative_answers = frozenset(
                " ".join(normalize_phrase(answer, self.normalize))
                for answer in data.get("negative_answers") or []
            )
            self.negative_openers = tuple(
                normalize_phrase(answer, self.normalize)
                for answer in data.get("negative_answer_openers") or []
            )
        except KeyError as missing:
            raise ContextRulesError(f"context rules: missing entry {missing}") from None

    def _cue(self, flag: str, spec: dict[str, Any]) -> CueRule:
        def phrases(key: str) -> PhraseSet:
            return PhraseSet(spec.get(key) or [], self.normalize)

        if not isinstance(spec.get("max_tokens"), int):
            raise ContextRulesError(f"context rules: cues.{flag}.max_tokens must be an integer")
        return CueRule(
            flag=flag,
            forward=phrases("forward"),
            backward=phrases("backward"),
            pseudo=phrases("pseudo"),
            question_only=phrases("question_only"),
            terminators=phrases("terminators"),
            patient_proxy=phrases("patient_proxy"),
            carer_blockers=phrases("carer_blockers"),
            not_the_patient=phrases("not_the_patient"),
            carer_weak_blockers=phrases("carer_weak_blockers"),
            self_report=phrases("self_report"),
            self_well=phrases("self_well"),
            others=phrases("others"),
            on_the_drug=phrases("on_the_drug"),
            recency_cues=phrases("recency_cues"),
            proxy_blockers=phrases("proxy_blockers"),
            shared_with_patient=phrases("shared_with_patient"),
            max_tokens=spec["max_tokens"],
            year_pattern=bool(spec.get("year_pattern")),
            own_terminators_only=bool(spec.get("own_terminators_only")),
            age_pattern=bool(spec.get("age_pattern")),
            backward_max_tokens=spec.get("backward_max_tokens"),
            nearest_only=bool(spec.get("nearest_only")),
        )

    def answers_no(self, tokens: list[str]) -> bool:
        """The sentence answers no: it is nothing but a negative answer ("nope lol", "not at
        all") or opens with one ("nah, eyes are fine"). `tokens` include punctuation."""
        words = [token for token in tokens if token[:1].isalnum()]
        if words and " ".join(words) in self.negative_answers:
            return True
        return any(tokens[: len(opener)] == opener for opener in self.negative_openers)

    def numeral_value(self, reading: str) -> float | None:
        """三十八 -> 38, 三十八度五 -> 38.5, 三十九点二 -> 39.2, 三十八度多 -> 38.1."""
        whole, rest = 0, reading
        digits = ""
        while rest and (rest[0] in self.numerals or rest[0] == self.numeral_ten):
            digits, rest = digits + rest[0], rest[1:]
        if not digits:
            return None
        if self.numeral_ten and self.numeral_ten in digits:
            tens, _, ones = digits.partition(self.numeral_ten)
            whole = (self.numerals.get(tens, 0) if tens else 1) * 10
            whole += self.numerals.get(ones, 0) if ones else 0
        elif len(digits) == 1:
            whole = self.numerals[digits]
        else:
            return None
        for mark in sorted(self.numeral_marks):
            if rest.startswith(mark):
                rest = rest[len(mark) :]
                break
        if rest[:1] and rest[0] in self.numerals:
            return whole + self.numerals[rest[0]] / 10
        if self.numeral_half and rest.startswith(self.numeral_half):
            return whole + 0.5
        if self.numeral_over and rest.startswith(self.numeral_over):
            return whole + 0.1
        return float(whole)

    def vocabulary(self) -> set[str]:
        """Every word the rules use, for typo correction."""
        # Long normalised words too: "malaena" is a slip for "melaena" (black tarry poo).
        words = set(self.normalize.values()) | set(self.glue_words)
        words |= {word for word in self.normalize if len(word) > 4}
        sets = [self.terminators, self.severe, self.sudden]
        for rule in self.cues.values():
            sets += [rule.forward, rule.backward, rule.pseudo]
        for phrase_set in sets:
            words |= phrase_set.words()
        return {word for phrase in words for word in phrase.split()}

    # ----------------------------------------------------------------- scopes

    def _is_terminator(self, words: list[str], position: int, rule: CueRule) -> bool:
        if rule.terminators.match_at(words, position):
            return True
        return not rule.own_terminators_only and bool(self.terminators.match_at(words, position))

    def scopes(self, words: list[str], rule: CueRule, *, is_question: bool) -> list[Scope]:
        """Scopes of one flag's cues within one sentence's words."""
        blocked: set[int] = set()
        for start, end in rule.pseudo.find_all(words):
            blocked.update(range(start, end))
        found: list[Scope] = []
        for direction, phrase_set in (("forward", rule.forward), ("backward", rule.backward)):
            for start, end in phrase_set.find_all(words):
                if blocked.intersection(range(start, end)):
                    continue
                if not is_question and rule.question_only.match_at(words, start) == end - start:
                    continue
                found.append(self._scope(words, rule, direction, start, end))
        if rule.year_pattern:
            for position, word in enumerate(words):
                # "thinks it's 1985": a pseudo cue just before the year makes it no history
                if _YEAR_RE.match(word) and position - 1 not in blocked:
                    found.append(self._scope(words, rule, "backward", position, position + 1))
        if rule.age_pattern and not self._age_lead_words.isdisjoint(words):
            for start, end in _age_mentions(words, self.age_leads, self.age_numbers):
                found.append(self._scope(words, rule, "backward", start, end))
                found.append(self._scope(words, rule, "forward", start, end))
        return found

    def _scope(
        self, words: list[str], rule: CueRule, direction: str, start: int, end: int
    ) -> Scope:
        # max_tokens counts words: brackets and other marks add no distance
        if direction == "forward":
            stop, taken = end, 0
            while stop < len(words) and taken < rule.max_tokens:
                if self._is_terminator(words, stop, rule):
                    break
                taken += words[stop][:1].isalnum()
                stop += 1
            return Scope(range(end, stop), range(start, end))
        begin, taken = start, 0
        reach = rule.backward_max_tokens or rule.max_tokens
        while begin > 0 and taken < reach:
            if self._is_terminator(words, begin - 1, rule):
                break
            taken += words[begin - 1][:1].isalnum()
            begin -= 1
        return Scope(range(begin, start), range(start, end))

    def shares_with_patient(self, words: list[str]) -> bool:
        """The writer says they have the relative's illness too."""
        return bool(self.cues["family"].shared_with_patient.find_all(words))

    def reports_self(self, words: list[str]) -> bool:
        """The writer speaks of their own symptoms ("I feel", "I have"), not only to say they
        are well ("I feel fine")."""
        family = self.cues["family"]
        well = {p for start, end in family.self_well.find_all(words) for p in range(start, end)}
        return any(start not in well for start, _ in family.self_report.find_all(words))

    def carer_blocked(self, words: list[str]) -> bool:
        """True when a message about a relative says they are not the patient."""
        family = self.cues["family"]
        if family.carer_blockers.find_all(words) or family.not_the_patient.find_all(words):
            return True
        return bool(
            family.carer_weak_blockers.find_all(words)
        ) and not family.recency_cues.find_all(words)

    def names_only_others(self, words: list[str]) -> bool:
        """Every person the message names is someone a carer would not write for (a
        colleague, a neighbour, a pet) and none is said to be on the medicine: "我同事吃布洛芬
        胃疼" is not about the patient, "my flatmate on tysabri is burning up" is."""
        family = self.cues["family"]
        if family.on_the_drug.find_all(words):
            return False
        named = family.forward.find_all(words)
        others = family.others.find_all(words)
        return bool(named) and all(
            any(start < o_end and o_start < end for o_start, o_end in others)
            for start, end in named
        )

    def about_someone_else(self, words: list[str]) -> bool:
        """The message names a relative (a real cue, not "my mum says I ...") and says they
        are not the patient ("he's not on natalizumab", 他没用药)."""
        family = self.cues["family"]
        return bool(family.not_the_patient.find_all(words)) and bool(
            self.scopes(words, family, is_question=False)
        )

    def has_patient_proxy(self, words: list[str]) -> bool:
        """True when the message is written for the patient by someone else."""
        family = self.cues["family"]
        return bool(family.patient_proxy.find_all(words)) and not family.proxy_blockers.find_all(
            words
        )


def _age_mentions(
    words: list[str], leads: tuple[tuple[str, ...], ...], numbers: frozenset[str]
) -> list[tuple[int, int]]:
    """Spans like "when i was 6" / "aged twelve": an age the person has passed."""
    spans = []
    for position in range(len(words)):
        for lead in leads:
            end = position + len(lead)
            if tuple(words[position:end]) == lead and end < len(words):
                number = words[end]
                if number.isdigit() or number in numbers:
                    spans.append((position, end + 1))
    return spans


def is_question(
    tokens: list[Token], starts: frozenset[str], anywhere: PhraseSet | None = None
) -> bool:
    """A sentence is a question when it ends in '?', opens with a question word (one of
    `starts`, the rule file's question_starts) or holds one of `anywhere`."""
    words = [token.text for token in tokens]
    if "?" in words or (anywhere and anywhere.find_all(words)):
        return True
    first_words = [token.text for token in tokens if token.is_word][:1]
    return bool(first_words) and first_words[0] in starts


def load_rules(lang: str, root: Path = CONTEXT_DIR) -> ContextRules:
    """Load `app/nlu/context/<lang>.yml`."""
    path = root / f"{lang}.yml"
    if not path.exists():
        raise ContextRulesError(f"no context rules for language {lang!r} at {path}")
    return ContextRules(yaml.safe_load(path.read_text(encoding="utf-8")))
