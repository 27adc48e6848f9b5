"""Typo correction towards the words the lexicon and cue tables care about."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA
from spellchecker import SpellChecker

# Below this corpus frequency a dictionary word may itself be a common misspelling.
_KNOWN_WORD_MIN_FREQUENCY = 20


@lru_cache(maxsize=4)
def _word_frequency(language: str):  # noqa: ANN202 - pyspellchecker's WordFrequency
    """A language's word list, loaded once (English serves both English and Chinese)."""
    return SpellChecker(language=language, distance=1).word_frequency


class SpellingCorrector:
    """Corrects unknown words to the nearest vocabulary word by edit distance.

    A word is left alone when it is in the vocabulary or is an ordinary English word (so
    "making" never becomes "shaking"); otherwise it becomes the vocabulary word at
    Damerau (OSA) distance 1, or 2 for long words, if there is one ("siezure" -> "seizure").
    """

    def __init__(self, vocabulary: Iterable[str], language: str = "en") -> None:
        self._vocabulary = sorted({word for word in vocabulary if word.isalpha() and len(word) > 2})
        self._vocabulary_set = frozenset(self._vocabulary)
        self._language = language
        self._attach()

    def _attach(self) -> None:
        self._dictionary = _word_frequency(self._language)
        self.correct = lru_cache(maxsize=65536)(self._correct)

    # Kept in the model cache without the shared dictionary and the memo of corrections.
    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k not in {"_dictionary", "correct"}}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._attach()

    def _is_known(self, word: str) -> bool:
        if word in self._vocabulary_set:
            return True
        return self._dictionary[word] >= _KNOWN_WORD_MIN_FREQUENCY

    def _correct(self, word: str) -> str:
        if len(word) < 4 or not word.isalpha() or self._is_known(word):
            return word
        max_distance = 1 if len(word) < 8 else 2
        found = process.extract(
            word, self._vocabulary, scorer=OSA.distance, score_cutoff=max_distance, limit=20
        )
        # Four-letter words are only repaired by a missing letter ("cogh" -> "cough"), since
        # a changed letter there too often makes another real word.
        candidates = [
            (distance, candidate)
            for candidate, distance, _ in found
            if len(word) > 4 or len(candidate) == len(word) + 1
        ]
        if not candidates:
            return word
        # Closest first; then the same first letter; then a dropped letter ("bruse" ->
        # "bruise", the commonest typo) before a changed one ("brush"); alphabetical last.
        _, best = min(
            candidates,
            key=lambda c: (c[0], c[1][0] != word[0], len(c[1]) != len(word) + 1, c[1]),
        )
        return best
