"""The pure triage engine on hand-built parses: window, combinations, severity, safety net."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.nlu.models import IntentPrediction, MessageParse, SymptomMention
from app.triage.engine import TriageContext, triage
from app.triage.protocol import default_protocol
from app.triage.reply import reply_lines

PROTOCOL = default_protocol()


def parse(
    *mentions: SymptomMention, guess=None, window="unknown", intent="report_symptom"
) -> MessageParse:
    return MessageParse(
        text="(built by hand)",
        lang="en",
        intent=IntentPrediction(intent, 0.9),
        symptoms=list(mentions),
        infusion_window=window,
        red_flag_guess=guess,
    )


def m(concept: str, start: int = 0, **flags) -> SymptomMention:
    return SymptomMention(concept, concept, start, start + 1, **flags)


def test_hives_outside_and_inside_the_window():
    assert triage(parse(m("hives")), PROTOCOL).categories == ["allergic_reaction"]
    assert triage(parse(m("hives")), PROTOCOL).questions == ["infusion_window"]
    inside = triage(parse(m("hives"), window="during"), PROTOCOL)
    assert (inside.level, inside.categories, inside.questions) == (
        "emergency",
        ["infusion_reaction"],
        [],
    )
    answered = triage(parse(m("hives")), PROTOCOL, TriageContext(infusion_window="within_2h"))
    assert answered.level == "emergency"


def test_headache_in_the_window_needs_another_sign():
    assert triage(parse(m("headache"), window="during"), PROTOCOL).level == "routine"
    both = triage(parse(m("headache"), m("itching", 2), window="during"), PROTOCOL)
    assert both.categories == ["infusion_reaction"]


def test_combination_replaces_its_parts():
    result = triage(parse(m("fever"), m("headache", 2), m("stiff_neck", 4)), PROTOCOL)
    assert (result.level, result.categories) == ("emergency", ["cns_infection"])


def test_a_combination_never_hides_a_higher_part():
    # nausea in the window is an infusion reaction (emergency); nausea + vomiting is liver
    result = triage(parse(m("nausea"), m("vomiting", 2), window="during"), PROTOCOL)
    assert result.level == "emergency" and "infusion_reaction" in result.categories


def test_severity_raises_routine_only():
    assert triage(parse(m("fatigue", severe=True)), PROTOCOL).categories == ["worsening"]
    assert triage(parse(m("jaundice", severe=True)), PROTOCOL).categories == ["liver"]
    assert triage(parse(m("low_mood", prolonged=True)), PROTOCOL).categories == ["mood"]
    assert triage(parse(m("fatigue", prolonged=True)), PROTOCOL).categories == ["worsening"]


def test_negated_and_hypothetical_mentions():
    assert triage(parse(m("jaundice", negated=True)), PROTOCOL).level == "none"
    question = triage(parse(m("jaundice", hypothetical=True), intent="ask_symptom_info"), PROTOCOL)
    assert (question.level, question.categories) == ("info", ["liver"])
    assert reply_lines(question, PROTOCOL)[0].text.startswith("Yellow skin or eyes")


@pytest.mark.parametrize(
    ("mentions", "guess", "level"),
    [
        ((), ("anaphylaxis", 0.8), "emergency"),  # a red flag the lexicon did not know
        ((m("joint_pain"),), ("liver", 0.7), "urgent"),
        ((m("fatigue"),), ("liver", 0.7), "routine"),  # tiredness reaches liver only combined
        ((m("itching"),), ("infusion_reaction", 0.9), "urgent"),  # timing decides, not the guess
        ((), ("anaphylaxis", 0.25), "none"),  # not confident enough
        # nothing recognised in a message that asks nothing: a weaker guess is enough
        ((), ("anaphylaxis", 0.35), "emergency"),
        ((m("joint_pain"),), ("liver", 0.35), "routine"),  # a recognised symptom needs more
        ((), ("common_side_effect", 0.9), "none"),  # only red flags are raised
        ((m("jaundice", negated=True),), ("liver", 0.9), "none"),  # the words ruled it out
        ((m("seizure"),), ("pml", 0.9), "emergency"),  # never lowers
    ],
)
def test_safety_net_only_raises_and_respects_the_words(mentions, guess, level):
    result = triage(parse(*mentions, guess=guess), PROTOCOL)
    assert result.level == level
    if level != "none" and guess[1] >= 0.3 and not mentions:
        assert result.safety_net and result.categories[0] == guess[0]


def test_a_question_needs_the_full_safety_net_confidence():
    asked = replace(parse(guess=("anaphylaxis", 0.35)), is_question=True)
    assert triage(asked, PROTOCOL).level == "none"


def test_the_protocols_numbers_reach_the_nlu():
    """Window length and fever threshold are protocol data, not constants in the NLU."""
    from dataclasses import replace

    from app.triager import Triager

    stricter = Triager(replace(PROTOCOL, window_hours=1.0, fever_celsius=38.6))
    usual = Triager(PROTOCOL)
    text = "the infusion finished 90 minutes ago and I have hives"
    assert usual.parse(text).infusion_window == "within_2h"
    assert stricter.parse(text).infusion_window == "later"
    reading = "thermometer says 38.4"
    assert [m.concept for m in usual.parse(reading).symptoms if m.present] == ["fever"]
    assert [m.concept for m in stricter.parse(reading).symptoms if m.present] == []
