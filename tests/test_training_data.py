"""nlu_data/ is valid Rasa training data and agrees with the protocol."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from app.nlu.training_data import (
    NLU_DATA_DIR,
    TrainingData,
    TrainingDataError,
    load_file,
    load_language,
)
from app.triage.protocol import default_protocol

REQUIRED_INTENTS = {"report_symptom", "greet", "goodbye", "thanks", "affirm", "deny",
                    "request_human", "out_of_scope"}  # fmt: skip


@pytest.mark.parametrize("path", sorted(NLU_DATA_DIR.glob("*/*.yml")), ids=lambda p: p.name)
def test_each_file_is_rasa_nlu_yaml(path):
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert document["version"] == "3.1"
    for item in document["nlu"]:
        kinds = {"intent", "synonym", "lookup", "regex"} & set(item)
        assert len(kinds) == 1, item
        assert set(item) <= kinds | {"examples"}, item
        lines = [line for line in item["examples"].splitlines() if line.strip()]
        assert lines and all(line.lstrip().startswith("- ") for line in lines)


def test_intents_cover_what_the_dialogue_needs():
    data = load_language("en")
    assert REQUIRED_INTENTS <= set(data.intents)
    assert all(len(examples) >= 20 for examples in data.intents.values())


def test_no_example_belongs_to_two_intents():
    data = load_language("en")
    owners = Counter(text.lower() for examples in data.intents.values() for text in set(examples))
    assert [text for text, n in owners.items() if n > 1] == []


def test_every_protocol_concept_and_topic_has_lexicon_entries():
    data = load_language("en")
    protocol = default_protocol()
    assert set(protocol.concepts) <= set(data.synonyms)
    assert set(protocol.info_topics) <= set(data.synonyms)
    assert set(data.synonyms) <= set(protocol.concepts) | set(protocol.info_topics)


def test_regexes_compile_and_find_temperatures_and_durations():
    data = load_language("en")
    temperature = [re.compile(p, re.IGNORECASE) for p in data.regexes["temperature"]]
    duration = [re.compile(p, re.IGNORECASE) for p in data.regexes["duration"]]
    for text in ("38.5", "39.2", "102F", "101.3 f", "38 degrees"):
        assert any(p.search(text) for p in temperature), text
    for text in ("40 mins", "2 wks", "a fortnight", "half an hour", "3 days"):
        assert any(p.search(text) for p in duration), text


def test_malformed_file_is_reported_with_its_name(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    hi\n', encoding="utf-8"
    )
    with pytest.raises(TrainingDataError, match=r"bad.yml item 1 \(intent: greet\)"):
        load_file(bad, TrainingData())


def test_a_phrase_under_two_synonyms_is_refused(tmp_path):
    folder = tmp_path / "xx"
    folder.mkdir()
    (folder / "a.yml").write_text(
        'version: "3.1"\nnlu:\n- synonym: limb_weakness\n  examples: |\n    - can not lift my arm\n'
        "- synonym: limb_paralysis\n  examples: |\n    - Can not lift  my arm\n",
        encoding="utf-8",
    )
    with pytest.raises(TrainingDataError, match="limb_weakness and limb_paralysis"):
        load_language("xx", root=tmp_path)
