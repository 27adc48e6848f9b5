"""Same-sound keys for Chinese characters: a pinyin keyboard types a character that sounds
like the intended one (抽出 for 抽搐, 淤班 for 瘀斑), so lexicon phrases also match on the
characters' toneless pinyin (pypinyin's dictionaries)."""

from __future__ import annotations

import os
import re
from functools import lru_cache

from opencc import OpenCC

# Only single characters are read here, so pypinyin's word dictionary (0.15 s of import and
# ~45 MB) is not loaded; the per-character readings are the same without it (checked on
# every character of the lexicon and the test sets).
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
from pypinyin import Style, pinyin  # noqa: E402

SOUND_PREFIX = "~"  # a key that is a syllable, not a word or a stem
_T2S = OpenCC("t2s")


# Chinese characters (CJK ideographs): the one definition the tokenizer, word edges,
# language detection and the classifiers share, as ranges and as a regex class body.
_HAN_RANGES = (("\u4e00", "\u9fff"), ("\u3400", "\u4dbf"), ("\uf900", "\ufaff"))
HAN = "".join(f"{low}-{high}" for low, high in _HAN_RANGES)
_HAN = re.compile(f"[{HAN}]")


def is_han(text: str) -> bool:
    """A CJK ideograph (one token each in Chinese text). Called for every token, so by
    comparison rather than a regex."""
    return len(text) == 1 and any(low <= text <= high for low, high in _HAN_RANGES)


def han_ratio(letters: str) -> float:
    """The share of Chinese characters among some letters (0 for none)."""
    return len(_HAN.findall(letters)) / len(letters) if letters else 0.0


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


@lru_cache(maxsize=16384)
def usual_sound(character: str) -> str:
    """The reading a pinyin keyboard lists a character under first (a typo is the right
    sound typed and a wrong character picked)."""
    return SOUND_PREFIX + pinyin(character, style=Style.NORMAL)[0][0]


@lru_cache(maxsize=16384)
def sound_keys(character: str) -> frozenset[str]:
    """Every reading of a character (多音字 have several: 血 xue / xie), so that the same
    character always meets a phrase's reading of it."""
    readings = pinyin(character, style=Style.NORMAL, heteronym=True)[0]
    return frozenset(SOUND_PREFIX + reading for reading in readings)


def phrase_sounds(characters: list[str]) -> list[str]:
    """The sound each character of a phrase is typed by: its usual reading. (The same
    character in a message always matches, since a message character carries all its
    readings; reading whole phrases in context cost start-up 0.4 s for little gain.)"""
    return [usual_sound(c) for c in characters]


def to_simplified(text: str) -> str:
    """Traditional characters folded to simplified (頭痛發燒 -> 头痛发烧); the text keeps
    its length, so token offsets still point into the original."""
    if not has_han(text):
        return text
    folded = _T2S.convert(text)
    return folded if len(folded) == len(text) else text
