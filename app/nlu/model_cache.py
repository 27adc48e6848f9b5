"""Built language models kept on disk between starts.

Building a language's model (lexicon indexes, cue tables, two classifiers trained on the
labelled sets) takes seconds; a start that finds a model built from exactly the same
inputs loads it instead. The key is a hash of everything the build reads: the language's
nlu_data, labelled sets and context table, the NLU source code, the build arguments and
the versions of the libraries whose objects are stored. Anything unreadable is rebuilt.

`TRIAGE_MODEL_CACHE` names the folder (default: ~/.cache/triagebot/models, or under
$XDG_CACHE_HOME); `TRIAGE_MODEL_CACHE=off` builds every time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import TypeVar

CACHE_ENV = "TRIAGE_MODEL_CACHE"
_LIBRARIES = ("numpy", "scikit-learn", "scipy", "pypinyin", "opencc", "pyspellchecker", "rapidfuzz")
_SOURCE_DIR = Path(__file__).resolve().parent

log = logging.getLogger(__name__)
Model = TypeVar("Model")


def cache_dir() -> Path | None:
    """Where built models are kept, or None when the cache is off."""
    value = os.environ.get(CACHE_ENV, "").strip()
    if value.lower() == "off":
        return None
    if value:
        return Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "triagebot" / "models"


def _version(library: str) -> str:
    try:
        return metadata.version(library)
    except metadata.PackageNotFoundError:
        return "-"


def fingerprint(files: Iterable[Path], arguments: str) -> str:
    """A hash of the files' names and contents, the NLU source, the arguments and the
    Python and library versions."""
    digest = hashlib.sha256()
    digest.update(arguments.encode())
    digest.update(sys.version.encode())
    for library in _LIBRARIES:
        digest.update(f"{library}={_version(library)}".encode())
    sources = sorted(_SOURCE_DIR.rglob("*.py")) + sorted(_SOURCE_DIR.rglob("*.yml"))
    for path in [*sorted(set(files)), *sources]:
        if path.is_file():
            digest.update(str(path.name).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def load_or_build(name: str, key: str, build: Callable[[], Model]) -> Model:
    """The model stored under `name` and `key`, or `build()` (then stored, replacing any
    older model of the same name)."""
    folder = cache_dir()
    if folder is None:
        return build()
    path = folder / f"{name}-{key}.pickle"
    try:
        return pickle.loads(path.read_bytes())
    except FileNotFoundError:
        pass
    except Exception as error:  # a partial or stale file: rebuilding is always safe
        log.warning("model cache %s unreadable (%s); rebuilding", path.name, type(error).__name__)
    model = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"{name}-*.pickle"):
            old.unlink(missing_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as file:
            file.write(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(file.name, path)  # whole or not at all, also with two processes starting
    except OSError as error:
        log.warning("model cache not written (%s); the service runs without it", error)
    return model
