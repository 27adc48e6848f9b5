"""Property tests of the triage core: no crash on any text; negations never raise the
level; a present red flag never lowers it."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.triage.protocol import default_protocol

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

BASES = st.sampled_from(
    [
        "pretty tired since the last dose",
        "hi there",
        "my knees ache",
        "How often do I get the infusion?",
        "my eyes look a bit yellow",
        "headache since this morning",
        "I had hives last week, infusion was 3 weeks ago",
        "feeling low and teary",
        "nothing much to report",
        "bad headache and my neck is stiff",
    ]
)
NEGATED_RED_FLAGS = st.sampled_from(
    [", no fever", ", no bleeding", ", no yellow eyes", ". No trouble breathing",
     ", no stiff neck", ". No hives", ", not confused", ". no chest pain", ", no seizures"]
)  # fmt: skip
PRESENT_RED_FLAGS = st.sampled_from(
    [". my eyes have gone yellow", ". I can't breathe", ". my nose won't stop bleeding",
     ". I've been having thoughts of killing myself", ". I've got hives everywhere",
     ". my left leg has gone weak", ". I have a fever of 39", ". throat feels like it's closing"]
)  # fmt: skip


@PROPERTY_SETTINGS
@given(text=st.text(min_size=1, max_size=400))
def test_arbitrary_unicode_never_crashes(triager, text):
    parse, result = triager.assess(text, "en")
    assert result.level in default_protocol().levels
    for mention in parse.symptoms:
        assert 0 <= mention.start <= mention.end <= len(text)


@PROPERTY_SETTINGS
@given(base=BASES, negated=NEGATED_RED_FLAGS)
def test_appending_a_negated_red_flag_never_raises_the_level(triager, base, negated):
    _, before = triager.assess(base, "en")
    _, after = triager.assess(base + negated, "en")
    assert default_protocol().rank(after.level) <= default_protocol().rank(before.level)


@PROPERTY_SETTINGS
@given(base=BASES, present=PRESENT_RED_FLAGS)
def test_appending_a_present_red_flag_never_lowers_the_level(triager, base, present):
    _, before = triager.assess(base, "en")
    _, after = triager.assess(base + present, "en")
    assert default_protocol().rank(after.level) >= default_protocol().rank(before.level)
    assert default_protocol().rank(after.level) >= default_protocol().rank("urgent")
