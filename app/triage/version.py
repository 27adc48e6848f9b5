"""The protocol's version: a short hash of what decides a triage — the protocol and its
translations, each language's lexicons and context tables. Shown on the protocol page and
recorded with every patient turn, so a decision can be traced to the rules it was made
under."""

from __future__ import annotations

import hashlib
from pathlib import Path

from app.nlu.context import CONTEXT_DIR
from app.nlu.training_data import NLU_DATA_DIR
from app.triage.protocol import PROTOCOL_PATH


def decision_files() -> list[Path]:
    return [
        *PROTOCOL_PATH.parent.glob("protocol*.yml"),
        *NLU_DATA_DIR.rglob("*.yml"),
        *CONTEXT_DIR.glob("*.yml"),
    ]


def protocol_version() -> str:
    """12 hex digits; the same data gives the same version on every machine."""
    digest = hashlib.sha256()
    for path in sorted(decision_files()):
        digest.update(f"{path.parent.name}/{path.name}\0".encode())
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]
