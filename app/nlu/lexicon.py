"""Lexicon phrases matched as bags of word stems inside a short window of one sentence."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import product

from app.nlu.sound import is_han, phrase_sounds, usual_sound
from app.nlu.text import normalize_phrase, stem

# Extra words allowed inside a match beyond the phrase's own ("eyes look kind of yellow").
MAX_GAP = 4
# Out-of-order words must lie within this many extra tokens of each other.
REORDER_GAP = 1
# Above this many position combinations a match is checked greedily instead.
_MAX_COMBINATIONS = 256


SURFACE_PREFIX = "="
# Lexicon entries of this entity are not symptoms: they stop the words they cover from
# matching one ("flu jab" is no flu, "blood test" no bleeding).
BLOCKER = "blocker"


def key_of(word: str, surface_only: frozenset[str]) -> str:
    """The matching key of a lexicon word: its stem, or its exact form for words whose
    inflections mean something else ("fainted" must not match "faint")."""
    word_stem = stem(word)
    return SURFACE_PREFIX + word if word_stem in surface_only else word_stem


@dataclass(frozen=True, slots=True)
class Phrase:
    """One lexicon phrase: the entity it names and the stems it needs."""

    entity: str  # "symptom" or "info_topic"
    value: str  # concept or topic name
    text: str
    stems: tuple[str, ...]
    stem_set: frozenset[str]
    # Chinese characters, matched by sound: all but one of them must appear as written.
    characters: tuple[str, ...] = ()
    sounds: tuple[str, ...] = ()  # their readings in this phrase


@dataclass(frozen=True, slots=True)
class PhraseMatch:
    """Where a phrase matched: sorted token positions within the sentence's word list."""

    phrase: Phrase
    positions: tuple[int, ...]
    slipped: tuple[int, ...] = ()  # positions holding a same-sound character, not the phrase's

    @property
    def first(self) -> int:
        return self.positions[0]

    @property
    def last(self) -> int:
        return self.positions[-1]


class Lexicon:
    """All synonyms of one language, indexed by stem for fast lookup."""

    def __init__(
        self,
        entries: Mapping[str, Mapping[str, Iterable[str]]],
        *,
        normalize: Mapping[str, str],
        glue_words: frozenset[str],
        surface_only: frozenset[str] = frozenset(),
        never_slips: frozenset[str] = frozenset(),
    ) -> None:
        self.never_slips = never_slips
        self.phrases: list[Phrase] = []
        self.words: set[str] = set()
        for entity, synonyms in entries.items():
            for value, examples in synonyms.items():
                for example in examples:
                    words = [w for w in normalize_phrase(example, normalize) if w.isalnum()]
                    self.words.update(words)
                    content = [w for w in words if w not in glue_words] or words
                    if not content:
                        continue
                    characters = tuple(word for word in content if is_han(word))
                    sounds = tuple(phrase_sounds(list(characters)))
                    readings = iter(sounds)
                    stems = tuple(
                        next(readings) if is_han(word) else key_of(word, surface_only)
                        for word in content
                    )
                    self.phrases.append(
                        Phrase(entity, value, example, stems, frozenset(stems), characters, sounds)
                    )
        # A phrase can only match where all its stems are present, so it is indexed under
        # its rarest stem alone: a sentence then checks few candidates, not every phrase
        # sharing a common word ("feel", "pain"). A Chinese phrase is matched by sound,
        # and syllables are few, so it is indexed under its two rarest characters as
        # written instead: with at most one same-sound slip, one of them is always there.
        frequency: dict[str, int] = defaultdict(int)
        for phrase in self.phrases:
            for key in {*phrase.stem_set, *(SURFACE_PREFIX + c for c in phrase.characters)}:
                frequency[key] += 1
        index: dict[str, set[int]] = defaultdict(set)
        for phrase_id, phrase in enumerate(self.phrases):
            if phrase.characters and len(phrase.characters) == len(phrase.stems):
                written = {SURFACE_PREFIX + c for c in phrase.characters}
                for key in sorted(written, key=lambda key: (frequency[key], key))[:2]:
                    index[key].add(phrase_id)
            else:
                rarest = min(phrase.stem_set, key=lambda key: (frequency[key], key))
                index[rarest].add(phrase_id)
        self._index = dict(index)

    def match(
        self,
        keys_by_position: list[frozenset[str]],
        barriers: frozenset[int] = frozenset(),
        breaks: frozenset[int] = frozenset(),
    ) -> list[PhraseMatch]:
        """Every phrase whose stems all occur within its window, as non-redundant matches.

        A match may not have a barrier (a comma, "but", a negation word) among the words it
        skips: "coughing up phlegm, no blood" is no "coughing blood"; nor may a match out of
        the phrase's order have a break (punctuation) inside it: "what year, what" is no
        "what year it is" read backwards from "...next year, what happens".
        """
        positions_by_key: dict[str, list[int]] = defaultdict(list)
        for position, keys in enumerate(keys_by_position):
            for key in keys:
                positions_by_key[key].append(position)
        present = positions_by_key.keys()
        # Gathered at C speed; in lexicon order, so ties between matches resolve the same way.
        indexed = present & self._index.keys()
        candidates = sorted(set().union(*[self._index[key] for key in indexed]))
        phrases = self.phrases
        matches = []
        for phrase_id in candidates:
            phrase = phrases[phrase_id]
            if not phrase.stem_set <= present:
                continue
            if phrase.characters:
                written = _best_written(
                    phrase, positions_by_key, barriers, keys_by_position, self.never_slips, breaks
                )
                if written is not None:
                    matches.append(PhraseMatch(phrase, *written))
            else:
                found = _tightest(phrase.stems, positions_by_key, barriers, breaks)
                if found is not None:
                    matches.append(PhraseMatch(phrase, found))
        # A character that is part of a phrase written exactly is no typo for another
        # phrase: in 抑郁了, 郁 belongs to 抑郁 and is not a slip for 淤 (淤了, a bruise).
        exact = {p for m in matches if not m.slipped for p in m.positions}
        matches = [m for m in matches if exact.isdisjoint(m.slipped)]
        # Phrases that only look like symptoms ("flu jab", "cold weather") block what they cover.
        blocked = [set(m.positions) for m in matches if m.phrase.entity == BLOCKER]
        by_entity: dict[str, list[PhraseMatch]] = defaultdict(list)
        for found_match in matches:
            if found_match.phrase.entity == BLOCKER:
                continue
            if found_match.phrase.entity == "symptom" and any(
                set(found_match.positions) <= block for block in blocked
            ):
                continue
            by_entity[found_match.phrase.entity].append(found_match)
        kept = [m for group in by_entity.values() for m in _drop_contained(group)]
        kept.sort(key=lambda m: (m.first, m.last, m.phrase.value))
        return kept


def _choices(
    stems: tuple[str, ...],
    positions_by_key: Mapping[str, list[int]],
    barriers: frozenset[int],
    breaks: frozenset[int] = frozenset(),
    *,
    in_order: bool = False,
) -> Iterator[tuple[int, ...]]:
    """Sets of distinct positions covering all stems within the phrase's window (in the
    phrase's order when `in_order`: Chinese characters out of order are another word)."""
    options = [positions_by_key[key] for key in stems]
    limit = len(stems) + MAX_GAP
    combinations = 1
    for option in options:
        combinations *= len(option)
    if combinations > _MAX_COMBINATIONS:
        options = [option[:4] for option in options]
    for choice in product(*options):
        if len(set(choice)) != len(choice):
            continue
        span = max(choice) - min(choice) + 1
        if span > limit:
            continue
        # Words out of the phrase's order only count when close together ("neck stiff" for
        # "stiff neck"), so "sore with this cold" is not a "cold sore".
        if list(choice) != sorted(choice) and (
            in_order
            or span > len(stems) + REORDER_GAP
            or any(min(choice) < p < max(choice) for p in breaks)
        ):
            continue
        if barriers and span > len(choice):
            low, high = min(choice), max(choice)
            if any(p in barriers and p not in choice for p in range(low + 1, high)):
                continue
        yield choice


def _tightest(
    stems: tuple[str, ...],
    positions_by_key: Mapping[str, list[int]],
    barriers: frozenset[int],
    breaks: frozenset[int] = frozenset(),
) -> tuple[int, ...] | None:
    """The tightest set of distinct positions covering all stems, if within the window."""
    best = min(_choices(stems, positions_by_key, barriers, breaks), key=_span, default=None)
    return tuple(sorted(best)) if best is not None else None


def _best_written(
    phrase: Phrase,
    positions_by_key: Mapping[str, list[int]],
    barriers: frozenset[int],
    keys_by_position: list[frozenset[str]],
    never_slips: frozenset[str],
    breaks: frozenset[int] = frozenset(),
) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """For a phrase matched by sound: the positions written most like it (fewest slips),
    then the tightest, among those `_slips` accepts, with the slipped positions.
    ("最近嗓子发紧": 近 sounds like 紧, but the 紧 that is written wins.)"""
    best: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    best_rank: tuple[int, int] | None = None
    # 把奶挤掉 still has 挤奶, but longer phrases out of order are other words (了好多出血).
    in_order = len(phrase.characters) > 2
    for choice in _choices(phrase.stems, positions_by_key, barriers, breaks, in_order=in_order):
        ordered = tuple(sorted(choice))
        slipped = _slips(phrase, ordered, keys_by_position, never_slips)
        if slipped is None:
            continue
        rank = (len(slipped), _span(choice))
        if best_rank is None or rank < best_rank:
            best, best_rank = (ordered, slipped), rank
    return best


def _span(choice: tuple[int, ...]) -> int:
    return max(choice) - min(choice) + 1


def _slips(
    phrase: Phrase,
    positions: tuple[int, ...],
    keys_by_position: list[frozenset[str]],
    never_slips: frozenset[str],
) -> tuple[int, ...] | None:
    """The positions among the sorted `positions` that hold a phrase character only by
    sound, or None when that is not a match: one same-sound slip per phrase, none in a one-character
    phrase (样 is not 痒), and in a two-character phrase only with nothing between the two."""
    written = set().union(*(keys_by_position[p] for p in positions))
    slips = sum(SURFACE_PREFIX + c not in written for c in phrase.characters)
    if slips == 0:
        return ()
    contiguous = positions[-1] - positions[0] + 1 == len(positions)
    if slips > 1 or len(phrase.characters) < 2 or (len(phrase.characters) == 2 and not contiguous):
        return None
    if len(positions) != len(phrase.characters) or len(phrase.stems) != len(positions):
        return None  # a phrase mixing Chinese with other words: no slips there
    # The slipped character is the one a keyboard offers first for the phrase's sound, and
    # it sits right next to a character of the phrase ("最近手不听使唤" is no 嘴不听使唤).
    slipped = []
    triples = zip(positions, phrase.characters, phrase.sounds, strict=True)
    for index, (position, character, sound) in enumerate(triples):
        surfaces = [k for k in keys_by_position[position] if k[:1] == SURFACE_PREFIX]
        typed = surfaces[0][len(SURFACE_PREFIX) :] if surfaces else ""
        if typed == character:
            continue
        slipped.append(position)
        if typed in never_slips or usual_sound(typed) != sound:
            return None
        before = index > 0 and positions[index - 1] == position - 1
        after = index + 1 < len(positions) and positions[index + 1] == position + 1
        if not (before or after):
            return None
    return tuple(slipped)


def _drop_contained(matches: list[PhraseMatch]) -> list[PhraseMatch]:
    """Drop a match whose words are all part of a longer match ("cold" in "cold sore").

    Matches of different concepts on exactly the same words are both kept: both
    categories are reported and the higher level wins.
    """
    unique = list({(m.phrase.value, m.positions): m for m in matches}.values())
    kept = []
    for match in unique:
        words = set(match.positions)
        if not any(words < set(other.positions) for other in unique):
            kept.append(match)
    # One mention per stretch of text and concept: overlapping matches of the same concept
    # ("eyes look kind of yellow" / "look kind of yellow") keep the widest.
    kept.sort(key=lambda m: -(m.last - m.first))
    merged: list[PhraseMatch] = []
    for match in kept:
        if not any(
            other.phrase.value == match.phrase.value
            and other.first <= match.last
            and match.first <= other.last
            for other in merged
        ):
            merged.append(match)
    return merged
