"""Tokenising and normalising patient chat text, keeping offsets into the original."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

import snowballstemmer

from app.nlu.sound import HAN, has_han, is_han, to_simplified

# One Chinese character (Chinese is matched character by character), a word (letters or
# digits, inner apostrophes, an optional decimal part) or one symbol.
_WORD = rf"[^\W_{HAN}]"
_TOKEN_RE = re.compile(rf"[{HAN}]|{_WORD}+(?:['’]{_WORD}+)*(?:[.,]\d+)?|[^\w\s]", re.UNICODE)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
_STEMMER = snowballstemmer.stemmer("english")
_SPACE_BETWEEN_HAN = re.compile(f"(?<=[{HAN}]) (?=[{HAN}])")
_HAN_CHUNK = re.compile(f"[{HAN}]+")


def spaces_are_commas(text: str) -> bool:
    """Chinese chat uses a space as a comma ("累死了 休息一下"), except when the writer
    spaces word by word ("我现在 感觉 嗓子 有点 紧"): short pieces, most of two characters
    or fewer, are words, and a comma between them would cut phrases apart."""
    if " " not in text:
        return True
    sizes = sorted(len(chunk) for chunk in _HAN_CHUNK.findall(text))
    return len(sizes) < 4 or sizes[len(sizes) // 2] > 2


class Token(NamedTuple):
    """One normalised word of a message, with its span in the original text (a named
    tuple: a message makes dozens, and a tuple is built several times faster)."""

    text: str
    start: int
    end: int
    sentence: int
    is_word: bool


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball stem of an English word ("eyes" -> "eye", "bleeding" -> "bleed")."""
    return _STEMMER.stemWord(word)


def clean(text: str) -> str:
    """Unicode-normalise text so that look-alike characters compare equal (full-width
    punctuation, traditional Chinese characters)."""
    return to_simplified(unicodedata.normalize("NFKC", text).translate(_APOSTROPHES))


def join_words(words: Sequence[str]) -> str:
    """Words as one string for patterns: spaces between words, none between Chinese
    characters (so a pattern reads 输完, not 输 完)."""
    joined = " ".join(words)
    return _SPACE_BETWEEN_HAN.sub("", joined) if has_han(joined) else joined


def _split_word(word: str, normalize: Mapping[str, str]) -> list[str]:
    """Map one lower-cased raw word to normalised words (contractions, text-speak)."""
    if word in normalize:
        return normalize[word].split()
    if "'" in word:
        head, _, tail = word.partition("'")
        if tail == "t" and head.endswith("n"):  # "shouldn't" -> "should not"
            return [head[:-1], "not"] if head[:-1] else ["not"]
        if tail in {"s", "d", "ll", "re", "ve", "m"}:  # possessive / contracted verb
            return _split_word(head, normalize)
        return [head, tail]
    return [word]


def tokenize(
    text: str,
    *,
    normalize: Mapping[str, str],
    sentence_breaks: frozenset[str],
    correct: Callable[[str], str] | None = None,
    shorthand: Sequence[tuple[re.Pattern[str], str]] = (),
) -> list[Token]:
    """Split text into normalised tokens, numbering sentences.

    `correct` maps an unknown word to its corrected spelling (or itself); `shorthand`
    patterns ("D&V", "3/7", "SOB") stand for the words given, spanning what they matched.
    """
    text = clean(text)
    expansions: dict[int, tuple[int, str]] = {}  # start -> (end, words)
    for pattern, words in shorthand:
        for found in pattern.finditer(text):
            if not any(s <= found.start() < e for s, (e, _) in expansions.items()):
                expansions[found.start()] = (found.end(), found.expand(words))
    skip_until = -1
    tokens: list[Token] = []
    sentence = 0
    previous_end = 0
    brackets = 0  # "Years ago (2014?) I had ...": a "?" in brackets ends no sentence
    space_is_comma = spaces_are_commas(text)
    for match in _TOKEN_RE.finditer(text):
        raw = match.group()
        start, end = match.span()
        if start < skip_until:
            continue
        if tokens and "\n" in text[previous_end:start]:
            sentence += 1
        elif (
            space_is_comma
            and tokens
            and start > previous_end
            and is_han(raw)
            and is_han(tokens[-1].text)
            and is_han(text[previous_end - 1])  # not after an English word read as Chinese
        ):
            # Chinese chat uses a space as a comma ("累死了 休息一下"): it is one here, so
            # phrases and cue scopes do not reach across it.
            tokens.append(Token(",", previous_end, start, sentence, False))
        previous_end = end
        if start in expansions:
            skip_until, words = expansions[start]
            for word in words.split():
                # Chinese is read character by character, also where a pattern's group
                # brought a word in ("没 有 \\1" with \\1 = 头疼)
                pieces = list(word) if has_han(word) else _split_word(word.casefold(), normalize)
                for part in pieces:
                    tokens.append(Token(part, start, skip_until, sentence, True))
            previous_end = skip_until
            continue
        lowered = raw.casefold()
        if not (lowered[0].isalnum()):
            tokens.append(Token(lowered, start, end, sentence, False))
            if lowered == "(":
                brackets += 1
            elif lowered == ")":
                brackets = max(0, brackets - 1)
            elif lowered in sentence_breaks and not brackets:
                sentence += 1
            continue
        for word in _split_word(lowered, normalize):
            if correct is not None and word.isalpha() and not is_han(word):
                word = correct(word)
                if word in normalize:  # a corrected word may itself be text-speak
                    for part in normalize[word].split():
                        tokens.append(Token(part, start, end, sentence, True))
                    continue
            tokens.append(Token(word, start, end, sentence, True))
    return tokens


def normalize_phrase(phrase: str, normalize: Mapping[str, str]) -> list[str]:
    """Normalise a lexicon or cue phrase the same way as message words."""
    words: list[str] = []
    for match in _TOKEN_RE.finditer(clean(phrase)):
        raw = match.group().casefold()
        if raw[0].isalnum():
            words.extend(_split_word(raw, normalize))
        else:
            words.append(raw)
    return words
