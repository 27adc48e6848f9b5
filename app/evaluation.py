"""Validation report for labelled message sets: what a clinical safety reviewer needs."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.triage.protocol import LEVELS, default_protocol

RED_FLAG_LEVELS = ("emergency", "urgent")


class LabelledSetError(ValueError):
    """A labelled file line is malformed; the message names file and line."""


@dataclass
class LabelledMessage:
    line: int
    text: str
    level: str
    categories: list[str]
    lang: str | None
    id: str | None = None


@dataclass
class Outcome:
    item: LabelledMessage
    level: str
    categories: list[str]

    @property
    def under_triaged(self) -> bool:
        """A red flag predicted below its floor: urgent below urgent, emergency below emergency."""
        expected = self.item.level
        if expected not in RED_FLAG_LEVELS:
            return False
        return default_protocol().rank(self.level) < default_protocol().rank(expected)

    @property
    def over_triaged(self) -> bool:
        return default_protocol().rank(self.level) > default_protocol().rank(self.item.level)

    @property
    def category_hit(self) -> bool:
        """The first labelled category is among the predicted ones (or none expected)."""
        return not self.item.categories or self.item.categories[0] in self.categories


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def under_triaged(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.under_triaged]

    def to_dict(self) -> dict[str, Any]:
        total = len(self.outcomes)
        exact = sum(o.level == o.item.level for o in self.outcomes)
        confusion = {e: dict.fromkeys(LEVELS, 0) for e in LEVELS}
        for o in self.outcomes:
            confusion[o.item.level][o.level] += 1
        sensitivity = {}
        for level in LEVELS:
            support = sum(confusion[level].values())
            if support:
                sensitivity[level] = {
                    "support": support,
                    "exact": round(confusion[level][level] / support, 4),
                    "at_or_above": round(
                        sum(
                            n
                            for p, n in confusion[level].items()
                            if default_protocol().rank(p) >= default_protocol().rank(level)
                        )
                        / support,
                        4,
                    ),
                }
        category_totals: Counter[str] = Counter()
        category_hits: Counter[str] = Counter()
        for o in self.outcomes:
            for category in o.item.categories:
                category_totals[category] += 1
                category_hits[category] += category in o.categories
        first_hits = sum(o.category_hit for o in self.outcomes if o.item.categories)
        with_categories = sum(1 for o in self.outcomes if o.item.categories)
        return {
            "total": total,
            "exact_level": round(exact / total, 4) if total else 0.0,
            "under_triaged": [_row(o) for o in self.under_triaged],
            "over_triaged_rate": round(sum(o.over_triaged for o in self.outcomes) / total, 4)
            if total
            else 0.0,
            "over_triaged": [_row(o) for o in self.outcomes if o.over_triaged],
            "wrong_level": [_row(o) for o in self.outcomes if o.level != o.item.level],
            "confusion": confusion,
            "sensitivity": sensitivity,
            "first_category_recall": round(first_hits / with_categories, 4)
            if with_categories
            else 1.0,
            "category_recall": {
                c: {
                    "support": category_totals[c],
                    "recall": round(category_hits[c] / category_totals[c], 4),
                }
                for c in sorted(category_totals)
            },
            "missed_first_category": [_row(o) for o in self.outcomes if not o.category_hit],
        }


def _row(o: Outcome) -> dict[str, Any]:
    return {
        "line": o.item.line,
        "id": o.item.id,
        "text": o.item.text,
        "expected": o.item.level,
        "predicted": o.level,
        "expected_categories": o.item.categories,
        "predicted_categories": o.categories,
    }


def read_labelled(path: Path) -> list[LabelledMessage]:
    """Read a labelled JSONL file: {"text", "level", "categories", "lang"?} per line."""
    items = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as error:
            raise LabelledSetError(f"{where}: invalid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise LabelledSetError(f"{where}: each line must be a JSON object")
        text, level = record.get("text"), record.get("level")
        categories = record.get("categories", [])
        if not isinstance(text, str) or not text.strip():
            raise LabelledSetError(f"{where}: 'text' must be a non-empty string")
        if level not in LEVELS:
            raise LabelledSetError(f"{where}: 'level' must be one of {', '.join(LEVELS)}")
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise LabelledSetError(f"{where}: 'categories' must be a list of names")
        lang = record.get("lang")
        items.append(LabelledMessage(number, text, level, categories, lang, record.get("id")))
    return items


@dataclass(frozen=True)
class HeldOutScore:
    """One labelled set scored by a safety net that never saw it (leave one set out)."""

    name: str
    messages: int
    red_flags: int
    under_with_net: int  # red flags below their level, the net trained without this set
    under_without_net: int  # ... with the net switched off (lexicon and rules only)
    exact_with_net: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "set": self.name,
            "messages": self.messages,
            "red_flags": self.red_flags,
            "under_triaged_with_net": self.under_with_net,
            "under_triaged_without_net": self.under_without_net,
            "exact_level_with_net": round(self.exact_with_net, 4),
        }


def leave_one_set_out(
    triager: Any, folder: Path, lang: str = "en", progress: Any = iter
) -> list[HeldOutScore]:
    """For each labelled set k: train the red-flag safety net on every other set, score
    set k with it, and without any net. The figures a set cannot have trained itself into:
    the net's honest generalisation."""
    from app.nlu.safety_net import RedFlagNet, read_example_file

    model = triager.nlu.models[lang]
    kept = model.safety_net
    paths = sorted(folder.glob("*.jsonl"))
    examples = {path: read_example_file(path) for path in paths}
    scores = []
    try:
        for path in progress(paths):
            texts = [t for other in paths if other != path for t in examples[other][0]]
            labels = [x for other in paths if other != path for x in examples[other][1]]
            items = read_labelled(path)
            outcomes: dict[str, list[Outcome]] = {"net": [], "off": []}
            for key, net in (("net", RedFlagNet(texts, labels)), ("off", None)):
                model.safety_net = net
                for item in items:
                    _, result = triager.assess(item.text, item.lang)
                    outcomes[key].append(Outcome(item, result.level, result.categories))
            red = [o for o in outcomes["net"] if o.item.level in RED_FLAG_LEVELS]
            scores.append(
                HeldOutScore(
                    name=path.stem,
                    messages=len(items),
                    red_flags=len(red),
                    under_with_net=sum(o.under_triaged for o in outcomes["net"]),
                    under_without_net=sum(o.under_triaged for o in outcomes["off"]),
                    exact_with_net=sum(o.level == o.item.level for o in outcomes["net"])
                    / max(1, len(items)),
                )
            )
    finally:
        model.safety_net = kept
    return scores
