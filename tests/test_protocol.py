"""The protocol data file: complete, sourced, and validated with clear errors."""

from __future__ import annotations

import copy

import pytest
import yaml

from app.triage.protocol import PROTOCOL_PATH, ProtocolError, default_protocol, parse_protocol

CATEGORIES = {
    "emergency": {"anaphylaxis", "infusion_reaction", "cns_infection", "severe_bleeding",
                  "sudden_neuro", "self_harm"},
    "urgent": {"pml", "liver", "bleeding", "eye", "herpes", "infection", "allergic_reaction",
               "worsening"},
    "routine": {"common_side_effect", "mood"},
}  # fmt: skip
INFO_TOPICS = {
    "dosing", "rems", "pre_assessment", "monitoring", "pregnancy", "breastfeeding", "age",
    "crohns_discontinuation", "side_effects_overview", "pml_info", "allergy_history",
}  # fmt: skip


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(PROTOCOL_PATH.read_text(encoding="utf-8"))


def test_every_category_of_the_specification_is_there_at_its_level():
    protocol = default_protocol()
    for level, names in CATEGORIES.items():
        for name in names:
            assert protocol.categories[name].level == level
    assert set(protocol.categories) == set().union(*CATEGORIES.values())
    assert set(protocol.info_topics) == INFO_TOPICS


def test_every_guidance_line_names_its_source():
    protocol = default_protocol()
    lines = [line for c in protocol.categories.values() for line in c.guidance]
    lines += [line for t in protocol.info_topics.values() for line in t.answer]
    lines += list(protocol.responses.values())
    assert lines
    for line in lines:
        assert line.text.strip() and line.source.strip()


def test_every_emergency_has_an_action_line():
    protocol = default_protocol()
    for name in CATEGORIES["emergency"]:
        first = protocol.responses[protocol.categories[name].action[0]]
        for window in ("during", "within_2h", "later", "unknown"):
            action = (first.for_window(window) or "").lower()
            assert "emergency number" in action or "infusion nurse" in action, (name, window)


def test_an_emergency_without_action_is_refused(raw):
    broken = copy.deepcopy(raw)
    del broken["categories"]["self_harm"]["action"]
    with pytest.raises(ProtocolError, match="categories.self_harm: an emergency category needs"):
        parse_protocol(broken)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["concepts"]["hives"].update(category="hivez"),
            "concepts.hives.category: unknown category 'hivez'",
        ),
        (
            lambda d: d["categories"]["pml"].update(level="soon"),
            "categories.pml.level: unknown level 'soon'",
        ),
        (lambda d: d["combinations"][0]["all"].append("sneeze"), "unknown concept 'sneeze'"),
        (
            lambda d: d["concepts"]["fever"].update(in_window="nope"),
            "concepts.fever.in_window: unknown category 'nope'",
        ),
        (
            lambda d: d["categories"]["liver"]["guidance"][0].pop("source"),
            "categories.liver.guidance[0]: missing 'source'",
        ),
        (lambda d: d["combinations"][4].update(modifiers=["loud"]), "unknown modifier 'loud'"),
    ],
)
def test_invalid_entries_are_named_in_the_error(raw, mutate, message):
    broken = copy.deepcopy(raw)
    mutate(broken)
    with pytest.raises(
        ProtocolError,
        match=message.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("[", r"\[")
        .replace("]", r"\]"),
    ):
        parse_protocol(broken)


def test_the_shipped_protocol_is_valid(raw):
    assert parse_protocol(raw).concepts["hives"].in_window == "infusion_reaction"
