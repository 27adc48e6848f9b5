"""Exact multi-word phrase lookup over normalised tokens (cues, terminators, modifiers)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from app.nlu.text import normalize_phrase


class PhraseSet:
    """A set of word sequences, found at any position of a token list (longest first)."""

    def __init__(self, phrases: Iterable[str], normalize: Mapping[str, str]) -> None:
        by_first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for phrase in phrases:
            words = tuple(normalize_phrase(str(phrase), normalize))
            if words:
                by_first[words[0]].append(words)
        self._by_first = {
            first: sorted(set(options), key=len, reverse=True)
            for first, options in by_first.items()
        }
        # All phrases as one pattern over the space-joined words, longest first, so the
        # scan runs in the regex engine (a Python loop over positions was the hot spot).
        longest_first = sorted(
            {option for options in self._by_first.values() for option in options},
            key=lambda option: (-len(option), -len(" ".join(option))),
        )
        alternatives = "|".join(re.escape(" ".join(option)) for option in longest_first)
        self._pattern = re.compile(rf"(?:^| )({alternatives})(?= |$)") if alternatives else None

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def match_at(self, words: Sequence[str], position: int) -> int:
        """Length of the longest phrase starting at `position`, or 0."""
        for option in self._by_first.get(words[position], ()):
            end = position + len(option)
            if end <= len(words) and tuple(words[position:end]) == option:
                return len(option)
        return 0

    def find_all(self, words: Sequence[str]) -> list[tuple[int, int]]:
        """Non-overlapping (start, end) spans of phrases, scanning left to right, the
        longest phrase at each position."""
        if self._pattern is None or self._by_first.keys().isdisjoint(words):
            return []  # the common case, settled without joining the words
        text = " ".join(words)
        found = list(self._pattern.finditer(text))
        if not found:  # the common case: no word lists needed
            return []
        index_at: dict[int, int] = {}
        offset = 0
        for index, word in enumerate(words):
            index_at[offset] = index
            offset += len(word) + 1
        spans = []
        for match in found:
            start = index_at[match.start(1)]
            spans.append((start, start + match.group(1).count(" ") + 1))
        return spans

    def words(self) -> set[str]:
        """Every word used by any phrase (for the spelling vocabulary)."""
        return {
            word for options in self._by_first.values() for option in options for word in option
        }
