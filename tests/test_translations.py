"""Every patient-facing text has its Chinese version: the protocol's (protocol.zh.yml,
laid over protocol.yml) and domain.yml's (a Rasa conditional variation on `language`)."""

from __future__ import annotations

import re

import pytest

from app.dialogue.domain import default_domain
from app.triage.protocol import ProtocolError, default_protocol, translated

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
HAN = re.compile(r"[\u4e00-\u9fff]")
BOTH_LANGUAGES = {"utter_language_unsupported"}  # one text in both: the patient wrote neither


def _texts(protocol):
    for name, response in protocol.responses.items():
        yield f"responses.{name}", response.text
        for window, text in response.by_window:
            yield f"responses.{name}.{window}", text
    for name, category in protocol.categories.items():
        for index, line in enumerate(category.guidance):
            yield f"categories.{name}[{index}]", line.text
            yield f"categories.{name}[{index}].reported", line.reported
    for name, topic in protocol.info_topics.items():
        for index, line in enumerate(topic.answer):
            yield f"info_topics.{name}[{index}]", line.text
    for name, concept in protocol.concepts.items():
        yield f"concepts.{name}", concept.label
    for name, question in protocol.questions.items():
        yield f"questions.{name}", question.text


def test_every_protocol_text_has_its_chinese_version_with_the_same_placeholders():
    english = default_protocol()
    chinese = english.for_language("zh")
    assert chinese is not english
    pairs = dict(_texts(chinese))
    for where, text in _texts(english):
        if text is None:
            assert pairs[where] is None, where
            continue
        assert pairs[where] and HAN.search(pairs[where]), f"{where} is not translated"
        assert set(PLACEHOLDER.findall(pairs[where])) == set(PLACEHOLDER.findall(text)), where


def test_translations_keep_the_sources_and_the_clinical_structure():
    english = default_protocol()
    chinese = english.for_language("zh")
    for name, level in english.levels.items():
        other = chinese.levels[name]
        assert (other.rank, other.red_flag, other.alert_severity, other.closes_with) == (
            level.rank,
            level.red_flag,
            level.alert_severity,
            level.closes_with,
        )
    for name, category in english.categories.items():
        assert chinese.categories[name].level == category.level
        assert chinese.categories[name].action == category.action
        assert [g.source for g in chinese.categories[name].guidance] == [
            g.source for g in category.guidance
        ]


def test_a_translation_naming_something_the_protocol_lacks_is_refused():
    with pytest.raises(ProtocolError, match="no such entry"):
        translated({"responses": {"utter_x": {"text": "a"}}}, {"responses": {"utter_y": {}}})
    with pytest.raises(ProtocolError, match="one entry per protocol line"):
        translated({"answer": [{"text": "a"}, {"text": "b"}]}, {"answer": [{"text": "甲"}]})


def test_every_domain_response_has_a_chinese_variation_with_the_same_buttons():
    domain = default_domain()
    for name, variants in domain.responses.items():
        if name in BOTH_LANGUAGES:
            assert HAN.search(variants[0]["text"]) and "English" in variants[0]["text"]
            continue
        english = domain.render(name, {"language": "en"})
        chinese = domain.render(name, {"language": "zh"})
        assert not HAN.search(english["text"]), name
        assert HAN.search(chinese["text"]), f"{name} has no Chinese variation"
        assert set(PLACEHOLDER.findall(chinese["text"])) == set(
            PLACEHOLDER.findall(english["text"])
        ), name
        assert [b["payload"] for b in chinese.get("buttons", [])] == [
            b["payload"] for b in english.get("buttons", [])
        ], name
