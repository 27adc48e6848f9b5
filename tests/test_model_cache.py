"""Built language models are kept on disk and reused only when nothing they were built
from has changed; a damaged file is rebuilt, and the cache can be switched off."""

from __future__ import annotations

import shutil

import pytest

from app.nlu import model_cache
from app.nlu.pipeline import NLU
from app.nlu.training_data import LABELLED_DIR, NLU_DATA_DIR
from app.triage.protocol import default_protocol

PROTOCOL = default_protocol()
MESSAGES = [
    "my eyes look kind of yellow",
    "no bleeding, just tired",
    "I'm at my infusion and itchy",
]


def build(data_dir, labelled_dir) -> NLU:
    return NLU(
        concepts=frozenset(PROTOCOL.concepts),
        topics=frozenset(PROTOCOL.info_topics),
        languages=("en",),
        data_dir=data_dir,
        labelled_dir=labelled_dir,
    )


def readings(nlu: NLU) -> list[tuple]:
    return [
        (p.intent.name, [(m.concept, m.negated) for m in p.symptoms], p.red_flag_guess)
        for p in (nlu.parse(text, "en") for text in MESSAGES)
    ]


@pytest.fixture
def copies(tmp_path, monkeypatch):
    """The English data and labelled sets copied, and an empty cache folder."""
    data, labelled = tmp_path / "nlu_data", tmp_path / "labelled"
    shutil.copytree(NLU_DATA_DIR / "en", data / "en")
    shutil.copytree(LABELLED_DIR / "en", labelled / "en")
    cache = tmp_path / "cache"
    monkeypatch.setenv(model_cache.CACHE_ENV, str(cache))
    return data, labelled, cache


def test_a_second_start_loads_the_same_model(copies, monkeypatch):
    data, labelled, cache = copies
    first = build(data, labelled)
    stored = list(cache.glob("nlu-en-*.pickle"))
    assert len(stored) == 1

    def no_build(*args, **kwargs):
        raise AssertionError("built again although nothing changed")

    monkeypatch.setattr("app.nlu.pipeline._build", no_build)
    assert readings(build(data, labelled)) == readings(first)


def test_changed_training_data_builds_a_new_model(copies):
    data, labelled, cache = copies
    build(data, labelled)
    before = {p.name for p in cache.glob("*.pickle")}
    labelled_file = next((labelled / "en").glob("*.jsonl"))
    labelled_file.write_text(labelled_file.read_text().splitlines()[0] + "\n")
    build(data, labelled)
    after = {p.name for p in cache.glob("*.pickle")}
    assert len(after) == 1 and after != before  # the old model is replaced, not kept


def test_a_damaged_file_is_rebuilt(copies, caplog):
    data, labelled, cache = copies
    expected = readings(build(data, labelled))
    (stored,) = cache.glob("*.pickle")
    stored.write_bytes(stored.read_bytes()[:1000])
    assert readings(build(data, labelled)) == expected
    assert "unreadable" in caplog.text
    assert len(stored.read_bytes()) > 1000  # written whole again


def test_the_cache_can_be_switched_off(copies, monkeypatch):
    data, labelled, cache = copies
    monkeypatch.setenv(model_cache.CACHE_ENV, "off")
    build(data, labelled)
    assert not cache.exists()


def test_a_cached_model_scores_without_importing_scikit_learn(tmp_path):
    """A process that finds its models in the cache never imports scikit-learn (nor SciPy):
    ~0.9 s and ~90 MB less to start; its triage is the same as the building process's."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "TRIAGE_MODEL_CACHE": str(tmp_path)}
    script = (
        "import json, sys; from app.triager import Triager; t = Triager(); "
        "print(json.dumps([[t.triage_json(m)['level'] for m in sys.argv[1:]], "
        "'sklearn' in sys.modules, 'scipy' in sys.modules]))"
    )
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", script, *MESSAGES, "刚输完Tysabri，皮肤有点发黄"],
                env=env, capture_output=True, text=True, check=True, timeout=300,
            ).stdout
        )
        for _ in range(2)
    ]  # fmt: skip
    (built_levels, built_sklearn, _), (cached_levels, cached_sklearn, cached_scipy) = runs
    assert built_sklearn  # the first process trained the models
    assert cached_levels == built_levels
    assert not cached_sklearn and not cached_scipy
