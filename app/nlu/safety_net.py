"""The red-flag safety net: a classifier over whole messages, trained on the repo's labelled
patient messages, that catches red flags worded in ways the lexicon does not know.

It predicts the level-setting category of urgent, emergency and routine messages (and
`info` / `none` for the rest). The engine only ever uses it to raise a level.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.nlu.classifier import TextClassifier

REPORT_LEVELS = ("emergency", "urgent", "routine")


def label_of(level: str, categories: list[str]) -> str:
    return categories[0] if level in REPORT_LEVELS and categories else level


def read_example_file(path: Path) -> tuple[list[str], list[str]]:
    """Texts and labels of one labelled JSONL file."""
    texts: list[str] = []
    labels: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            texts.append(str(record["text"]))
            labels.append(label_of(record["level"], list(record.get("categories") or [])))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a labelled message ({error})") from None
    return texts, labels


def read_examples(folder: Path) -> tuple[list[str], list[str]]:
    """Texts and labels from every labelled JSONL file in `folder`."""
    texts: list[str] = []
    labels: list[str] = []
    for path in sorted(folder.glob("*.jsonl")):
        more_texts, more_labels = read_example_file(path)
        texts += more_texts
        labels += more_labels
    return texts, labels


class RedFlagNet(TextClassifier):
    """Trained at start-up (~1,300 messages in ~0.3 s)."""

    def __init__(self, texts: list[str], labels: list[str]) -> None:
        super().__init__(texts, labels, char_ngrams=(3, 5))

    @classmethod
    def from_folder(cls, folder: Path) -> RedFlagNet | None:
        if not folder.is_dir():
            return None
        texts, labels = read_examples(folder)
        return cls(texts, labels) if len(set(labels)) >= 2 else None
