"""The n-grams scikit-learn's TfidfVectorizer reads from a text (lower case; words of two
or more word characters and their pairs; character n-grams inside word boundaries,
padded with a space), so a model trained with scikit-learn is scored without importing
it: scikit-learn pulls in SciPy, ~0.9 s and ~90 MB of a starting process. A test checks
these against scikit-learn's own analyzers on every labelled message."""

from __future__ import annotations

import re
from collections.abc import Callable

_WORD = re.compile(r"(?u)\b\w\w+\b")  # TfidfVectorizer's default token_pattern
_WHITE_SPACES = re.compile(r"\s\s+")


def word_ngrams(ngram_range: tuple[int, int]) -> Callable[[str], list[str]]:
    low, high = ngram_range

    def analyze(text: str) -> list[str]:
        tokens = _WORD.findall(text.lower())
        grams = list(tokens) if low == 1 else []
        for n in range(max(low, 2), min(high, len(tokens)) + 1):
            grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        return grams

    return analyze


def char_wb_ngrams(ngram_range: tuple[int, int]) -> Callable[[str], list[str]]:
    low, high = ngram_range

    def analyze(text: str) -> list[str]:
        grams: list[str] = []
        for word in _WHITE_SPACES.sub(" ", text.lower()).split():
            padded = f" {word} "
            for n in range(low, high + 1):
                if len(padded) <= n:  # a short word counts once, whole
                    grams.append(padded)
                    break
                grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
        return grams

    return analyze
