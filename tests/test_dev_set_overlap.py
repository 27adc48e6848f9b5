"""The public dev set measures; it is never training data. No phrase of four or more words
in nlu_data's Rasa files appears verbatim in it (unless the clinical specification itself
quotes it: "worst headache of my life" comes from the protocol, not from the dev set), and
no labelled message (training data for the safety net) shares a run of seven words with
one of its messages."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from app.nlu.sound import HAN, is_han
from app.nlu.training_data import LABELLED_DIR, NLU_DATA_DIR
from tests.conftest import SHARED_DIR

DEV_SET = SHARED_DIR / "dev-set"
PHRASE_WORDS = 4
MESSAGE_RUN = 7
# Chinese is compared character by character; a word is about one and a half characters,
# and four-character phrases (皮肤发黄) are ordinary words, not copies.
PHRASE_CHARACTERS = 6
MESSAGE_RUN_CHARACTERS = 10


def words(text: str) -> list[str]:
    """Words, and each Chinese character as one."""
    return re.findall(rf"[{HAN}]|[^\W{HAN}]+(?:'[^\W{HAN}]+)*", text.casefold())


def chinese(tokens: list[str]) -> bool:
    return any(is_han(token) for token in tokens)


@pytest.fixture(scope="module")
def dev_messages() -> list[list[str]]:
    files = sorted(DEV_SET.glob("*.jsonl"))
    if not files:
        pytest.fail(f"the dev set is missing: expected {DEV_SET}/*.jsonl beside the repo")
    return [
        words(json.loads(line)["text"])
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def nlu_phrases() -> list[tuple[str, str]]:
    """(file, phrase) for every example, synonym and lookup entry in nlu_data/*/*.yml."""
    found = []
    for path in sorted(NLU_DATA_DIR.glob("*/*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                phrase = line.strip().removeprefix("- ")
                phrase = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", phrase)  # annotated entities
                if phrase:
                    found.append((f"{path.parent.name}/{path.name}", phrase))
    return found


def test_no_nlu_phrase_is_copied_from_the_dev_set(dev_messages):
    dev = [f" {' '.join(message)} " for message in dev_messages]
    protocol = f" {' '.join(words((SHARED_DIR / 'triage-protocol.md').read_text('utf-8')))} "
    copied = [
        (where, phrase)
        for where, phrase in nlu_phrases()
        if len(words(phrase)) >= (PHRASE_CHARACTERS if chinese(words(phrase)) else PHRASE_WORDS)
        and any(f" {' '.join(words(phrase))} " in message for message in dev)
        and f" {' '.join(words(phrase))} " not in protocol
    ]
    assert copied == []


def test_no_labelled_message_shares_a_run_of_words_with_the_dev_set(dev_messages):
    def runs(tokens: list[str]) -> set[str]:
        n = MESSAGE_RUN_CHARACTERS if chinese(tokens) else MESSAGE_RUN
        return {" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}

    dev_runs = set().union(*(runs(message) for message in dev_messages))
    dev_whole = {" ".join(message) for message in dev_messages}
    shared = []
    for path in sorted(LABELLED_DIR.glob("*/*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                tokens = words(json.loads(line)["text"])
                if " ".join(tokens) in dev_whole or runs(tokens) & dev_runs:
                    shared.append(f"{path.name}:{number}")
    assert shared == []
