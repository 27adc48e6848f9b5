"""Reading Rasa NLU training data (YAML, version "3.1") from `nlu_data/<lang>/`."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# The repo's nlu_data/ beside app/; an installed copy (e.g. the Docker image) sets
# TRIAGE_NLU_DATA to where nlu_data/ was copied.
NLU_DATA_DIR = Path(
    os.environ.get("TRIAGE_NLU_DATA") or Path(__file__).resolve().parents[2] / "nlu_data"
)
# Labelled patient messages (JSON lines): the red-flag safety net's training data and
# make test's regression sets. Outside nlu_data/, which is a Rasa data folder.
LABELLED_DIR = Path(
    os.environ.get("TRIAGE_LABELLED") or Path(__file__).resolve().parents[2] / "labelled"
)
SUPPORTED_VERSION = "3.1"
_ITEM_KINDS = ("intent", "synonym", "lookup", "regex")


class TrainingDataError(ValueError):
    """The training data is not valid Rasa NLU YAML; the message names file and entry."""


@dataclass
class TrainingData:
    """Everything one language's `nlu_data/` files hold, by kind and name."""

    intents: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    synonyms: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lookups: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    regexes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def _examples(value: object, where: str) -> list[str]:
    if not isinstance(value, str):
        raise TrainingDataError(f"{where}: 'examples' must be a block string of '- ' lines")
    lines = []
    for raw in value.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("- "):
            raise TrainingDataError(f"{where}: example line does not start with '- ': {line!r}")
        lines.append(line[2:].strip())
    return lines


def load_file(path: Path, into: TrainingData) -> None:
    """Add one Rasa NLU YAML file's items to `into`."""
    # libyaml's parser where PyYAML has it: the same result, several times faster at start-up
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    if not isinstance(document, dict) or "nlu" not in document:
        raise TrainingDataError(f"{path}: not a Rasa NLU file (no 'nlu' key)")
    if str(document.get("version")) != SUPPORTED_VERSION:
        raise TrainingDataError(f'{path}: version must be "{SUPPORTED_VERSION}"')
    for index, item in enumerate(document["nlu"] or []):
        where = f"{path.name} item {index + 1}"
        kinds = [kind for kind in _ITEM_KINDS if kind in item]
        if len(kinds) != 1:
            raise TrainingDataError(f"{where}: needs exactly one of {', '.join(_ITEM_KINDS)}")
        kind = kinds[0]
        name = str(item[kind])
        examples = _examples(item.get("examples"), f"{where} ({kind}: {name})")
        bucket = {
            "intent": into.intents,
            "synonym": into.synonyms,
            "lookup": into.lookups,
            "regex": into.regexes,
        }[kind]
        bucket[name].extend(examples)


def load_language(lang: str, root: Path = NLU_DATA_DIR) -> TrainingData:
    """Load every YAML file under `nlu_data/<lang>/`."""
    folder = root / lang
    files = sorted(folder.glob("*.yml"))
    if not files:
        raise TrainingDataError(f"no training data for language {lang!r} in {folder}")
    data = TrainingData()
    for path in files:
        load_file(path, data)
    _refuse_conflicting_synonyms(data, folder)
    return data


def _refuse_conflicting_synonyms(data: TrainingData, folder: Path) -> None:
    """One phrase, one value: Rasa keeps only one of two synonyms for the same words (and
    warns), so a phrase listed under two concepts or topics is an error here."""
    owner: dict[str, str] = {}
    conflicts = []
    for value, phrases in data.synonyms.items():
        for phrase in phrases:
            key = " ".join(phrase.casefold().split())
            if owner.setdefault(key, value) != value:
                conflicts.append(f"{phrase!r} ({owner[key]} and {value})")
    if conflicts:
        raise TrainingDataError(
            f"{folder}: phrases listed as synonyms of two values: " + "; ".join(conflicts[:10])
        )
