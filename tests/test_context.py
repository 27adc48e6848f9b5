"""ConText flags, infusion window, stopped treatment and temperatures, on patient sentences."""

from __future__ import annotations

import pytest

from app.nlu.context import load_rules
from app.nlu.extractor import _refuse_shorthand_in_phrases
from app.nlu.timing import TimeWords, TimingRules
from app.triager import Triager

duration_hours = TimeWords.from_config(load_rules("en").time_words).duration_hours


def flags(triager: Triager, text: str, concept: str) -> set[str]:
    parse = triager.parse(text, "en")
    mentions = [m for m in parse.symptoms if m.concept == concept]
    assert mentions, f"{concept} not found in {text!r}: {[m.concept for m in parse.symptoms]}"
    names = ("negated", "hypothetical", "historical", "family", "uncertain")
    return {name for name in names if getattr(mentions[0], name)}


@pytest.mark.parametrize(
    ("text", "concept", "expected"),
    [
        ("no fever, no stiff neck, just a headache", "fever", {"negated"}),
        ("no fever, no stiff neck, just a headache", "headache", set()),
        ("No bruising, no bleeding, just achy knees", "joint_pain", set()),
        ("No bleeding or bruising, just tired", "fatigue", set()),
        ("haven't had any bruising or tummy trouble this time", "bruising", {"negated"}),
        ("my nose won't stop bleeding", "uncontrolled_bleeding", set()),
        ("flat rash, not raised, doesn't itch", "itching", {"negated"}),
        ("I can't breathe properly", "breathing_difficulty", set()),
        ("no idea where these bruises came from", "bruising", set()),
        ("what should I do if I get hives?", "hives", {"hypothetical"}),
        ("can natalizumab cause jaundice?", "jaundice", {"hypothetical"}),
        ("if I stand up too fast I feel like I'm about to faint", "presyncope", set()),
        ("it feels as if my throat is closing", "throat_tightness", set()),
        ("I had a nosebleed as a kid", "nosebleed", {"historical"}),
        ("had shingles years ago", "shingles", {"historical"}),
        ("broke out in hives back in 2015", "hives", {"historical"}),
        ("my mother had jaundice", "jaundice", {"family"}),
        ("my sister has depression, I feel fine", "low_mood", {"family"}),
        ("my husband's skin has gone yellow", "jaundice", set()),  # a carer writing
        ("my wife says I'm forgetful", "memory_problems", set()),
        ("typing for my dad, he is on tysabri and he suddenly can't speak", "speech_loss", set()),
        ("I think my eyes might be a bit yellow", "jaundice", {"uncertain"}),
        ("my face feels flushed maybe", "flushing", {"uncertain"}),
        ("did I have a fit? no. am I knackered? yes", "seizure", {"negated"}),
        ("chills? nope. infusion was boring", "chills", {"negated"}),
        ("did I have a fit? yes", "seizure", set()),  # answered yes: still a fit
        ("chills? no. but I have a fever", "fever", set()),  # the "no" answers chills only
        ("hives last year after eating prawns", "hives", {"historical"}),
        ("hives since last year and getting worse", "hives", set()),
        # a checklist answered no denies its item; "a bit" and "mild" do not
        ("headache - mild / fever - no / stiff neck - no / tired - a bit", "fever", {"negated"}),
        ("headache - mild / fever - no / stiff neck - no / tired - a bit", "fatigue", set()),
        ("my headache is bad - no fever though", "headache", set()),
        # a confused person's year is not history
        ("he's not making sense, thinks it's 1985 and asks for his mum", "confusion", set()),
        ("I had shingles in 2019", "shingles", {"historical"}),
    ],
)
def test_context_flags(triager, text, concept, expected):
    assert flags(triager, text, concept) == expected


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("I'm at my infusion and I'm covered in itchy bumps", "during"),
        ("the drip is still running and I feel hot", "during"),
        ("30 min into my tysabri drip and my face is red", "during"),
        ("cannula still in, arms itchy", "during"),
        ("right now I'm shaking, still got the needle in", "during"),
        ("she's halfway thru her infusion and her face is red", "during"),
        ("my son is having his natalizumab and his cheeks are red", "during"),
        ("drips been running 15 min, itchy scalp", "during"),
        ("pump just beeped to say it's finished", "within_2h"),
        ("home from the day ward half an hour ago and shivering", "within_2h"),
        ("on the bus home from the unit and my face is hot", "within_2h"),
        ("They unhooked me at 2pm. It's 3.50 and I'm itchy", "within_2h"),
        ("drip went up at 9.30, it's 10.15 and I have itchy lumps", "within_2h"),
        ("drip started at 11 and I've been itchy since lunchtime", "within_2h"),
        ("drip went up at 9, it's 3pm now and I have hives", "later"),
        ("exactly 2 hours since the line came out, welts on my legs", "within_2h"),
        ("during todays infusion my skin went itchy", "during"),
        ("the infusion ended about 40 mins ago and now I have hives", "within_2h"),
        ("just finished my infusion and feel shivery", "within_2h"),
        ("my last infusion was 3 weeks ago", "later"),
        ("infusion was yesterday afternoon, now a fever", "later"),
        ("hives started 3 days after my infusion", "later"),
        ("I have hives on my arms", "unknown"),
        ("infusion finished at 2pm and it's now ten past three, I'm shivering", "within_2h"),
        ("drip ended at 10:15 and it's 11:50 now, hives coming up", "within_2h"),
        ("infusion finished at 9am and it's now 2pm, I have hives", "later"),
        # a bare hour is a clock time before "now" and after "finished"
        ("Infusion finished at 9:15, it's 11 now and I'm itching all over", "within_2h"),
        ("drip finished 11, it's 11:45 and I've got hives", "within_2h"),
        ("Started at 2 and it's 20 to 4 now, I'm shaking", "within_2h"),
        ("went up at half 9, it's quarter past 10 and I'm itchy", "within_2h"),
        ("bag's nearly done and I've gone all itchy", "during"),
        ("urticaria 30 mins post infusion", "within_2h"),
        ("itchy since they put the line in 20 min ago", "during"),
        ("finished 2 weeks ago, it's 3pm now and itchy", "later"),
        ("the bag finished at 2pm and its 5:20 now, raised itchy lumps", "later"),
        ("drip start 14:30, now is 15:10 and my arms are itching", "within_2h"),
        ("infusion started at 8, ended at 9. around half ten i felt sick", "within_2h"),
        # an end verb of formal writing; "a quarter"; a clock after "gone"; "3pm now"
        (
            "the infusion concluded at approximately ten past nine. It is now a quarter to ten",
            "within_2h",
        ),
        (
            "they started me after breakfast, about half 9, and it's just gone 10, itchy",
            "within_2h",
        ),
        ("pump has maybe 10 minutes to go and I feel shivery", "during"),
        ("unhooked at 1pm. 2pm now and itchy", "within_2h"),
        ("unhooked at 1pm. 6pm now and itchy", "later"),
        ("welts on my arms, they took the line down 40 mins ago", "within_2h"),
        ("no, it began during. itchy all over now", "during"),  # an answer to the question
        ("it began during the night, itchy all over", "unknown"),
        ("temp was fine at the end of the drip, now an hour later I'm shivering", "within_2h"),
    ],
)
def test_infusion_window(triager, text, window):
    assert triager.parse(text, "en").infusion_window == window


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("stopped tysabri 2 months ago and my hand is clumsy", 2.0),
        ("came off natalizumab about 8 months ago", 8.0),
        ("my hand is clumsy", None),
    ],
)
def test_months_since_stopped(triager, text, months):
    assert triager.parse(text, "en").months_since_stopped == months


@pytest.mark.parametrize(
    ("text", "fever"),
    [
        ("temp of 38.4 tonight", True),
        ("thermometer says 101.3F", True),
        ("38.1 and shivery", True),
        ("temperature 37.2, feel ok", False),
        ("I'm 39 and on tysabri", False),
        ("38 weeks pregnant", False),
    ],
)
def test_written_temperatures(triager, text, fever):
    parse = triager.parse(text, "en")
    assert any(m.concept == "fever" and m.present for m in parse.symptoms) is fever


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("40 minutes", 40 / 60),
        ("2 hours", 2),
        ("a fortnight", 336),
        ("3 weeks", 504),
        ("half an hour", 0.5),
    ],
)
def test_duration_hours(text, hours):
    assert duration_hours(text) == pytest.approx(hours)


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("siezure at the bus stop", "seizure"),
        ("noticed a big bruse on my leg", "bruising"),
        ("jaundise i think", "jaundice"),
        ("bad headach", "headache"),
        ("hacking dry cogh", "cough"),
        ("ichy arms", "itching"),
    ],
)
def test_typos_are_corrected(triager, text, concept):
    assert concept in {m.concept for m in triager.parse(text, "en").symptoms}


def test_own_symptom_counts_beside_a_relatives(triager):
    parse = triager.parse("my sister has depression and I feel pretty down too", "en")
    assert [(m.text, m.family) for m in parse.symptoms] == [
        ("depression", True),
        ("feel pretty down", False),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "I'm fit and well",
        "making dinner",
        "a faint smell of paint",
        "knees sore in the cold weather",
    ],
)
def test_ordinary_words_are_not_red_flags(triager, text):
    _, result = triager.assess(text, "en")
    assert result.level in {"none", "routine"}


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # a denied fever (words or a normal reading) leaves headache + stiff neck routine
        ("headache and a stiff neck from a bad pillow, no temperature, 36.5", "routine"),
        ("headache and a stiff neck, temp 37.1", "routine"),
        ("headache and a stiff neck", "emergency"),  # no fever given: rule 10
        ("headache, stiff neck and a temp of 38.9", "emergency"),
        # severity that is itself denied does not count
        ("headaches across my forehead, not terrible", "routine"),
        ("legs ache, no redness spreading", "routine"),
        ("no sleep at all, the headache is excruciating", "urgent"),
        # a carer's report: severity said of the relative is the patient's
        ("my husband's leg pain has gone from a niggle to unbearable", "urgent"),
        ("my mum had terrible jaundice years ago", "none"),
        # brackets: an aside neither ends a relative's story nor a sentence
        ("my sister (not on any meds) has just been diagnosed with shingles", "none"),
        ("Years ago (2014?) I had a reaction to dye at a scan, my face swelled up", "info"),
        # idioms with alarming words are not symptoms
        ("Seizing the day! first time back at the gym, feel great", "none"),
        ("broke out in a cold sweat when I saw the parking fine", "none"),
        ("haha my head is spinning from all these forms", "none"),
        # people who are not the patient
        ("watching TV and some guy had a seizure in the lift", "none"),
        ("My friend is on Ocrevus and keeps getting headaches", "none"),
        (
            "My wife is not on tysabri, she has a high fever and a bad cough. I am fine myself",
            "none",
        ),
        ("hot and flushed in the face and the drip is still running", "emergency"),
        ("having hot flushes again, menopause is fun", "none"),
        ("my housemate has shingles, she isn't on any meds", "none"),
        ("doing really well, no side effects at all this month", "none"),
        ("my tounge is going big and tight", "emergency"),  # a misspelling two edits away
        ("headache after each dose, usually gone by teatime, normal?", "routine"),
        ("headache for 9 days, usually gone by teatime but not this time", "urgent"),
        ("is a rash something to watch out for?", "info"),
        # words out of a phrase's order do not reach across punctuation ("year, what")
        ("we might move house next year, what happens with my infusions?", "info"),
        # a colleague, a neighbour or a pet is nobody's patient unless on the medicine
        ("my colleague has a stinking cold and a rash", "none"),
        ("my neighbour on tysabri is confused and feverish, I'm with her", "emergency"),
        ("my wife collapsed and my neighbour rang 999", "emergency"),
        ("hanging out the washing, all fine", "none"),  # no "washed out" read backwards
        ("my fingers will not cooperate with the buttons anymore", "urgent"),
        ("sudden horrific headache out of nowhere, never had anything like it", "emergency"),
        ("my son is on tysabri and he had a seizure an hour ago", "emergency"),
        # questions answered no, in the next sentence
        ("jaundice? nah lol eyes are fine. just so tired", "routine"),
        ("any fever? no fever but a sore throat", "routine"),
        ("headache? no idea why but it's splitting and my neck is stiff", "emergency"),
        # "is fine" speaks of the words just before it
        ("hives on my neck and arms, breathing is fine", "urgent"),
        ("the rash on my legs has gone away now", "none"),
    ],
)
def test_context_decides_the_level(triager, text, level):
    _, result = triager.assess(text, "en")
    assert result.level == level, result.categories


@pytest.mark.parametrize(
    ("text", "concepts"),
    [
        ("D&V since yesterday", ["diarrhoea", "vomiting"]),
        ("n + v all night", ["nausea", "vomiting"]),
        ("SOB on exertion", ["breathing_difficulty"]),
        ("I sob every night", []),  # crying, written in lower case
        ("HA 3/7", ["headache"]),
        ("ha ha very funny", []),
    ],
)
def test_clinical_shorthand_is_read_as_written(triager, text, concepts):
    parse = triager.parse(text)
    assert [m.concept for m in parse.symptoms if m.present] == concepts
    for mention in parse.symptoms:  # spans still point into the text as written
        assert text[mention.start : mention.end] == mention.text


def test_shorthand_durations_read_as_words(triager):
    from app.nlu.text import tokenize

    rules = triager.nlu.models["en"].extractor.rules
    tokens = tokenize(
        "rash for 2/52, HA 3/7",
        normalize=rules.normalize,
        sentence_breaks=rules.sentence_breaks,
        shorthand=rules.shorthand,
    )
    words = [t.text for t in tokens if t.is_word]
    assert words == ["rash", "for", "2", "weeks", "headache", "3", "days"]


@pytest.mark.parametrize("table", ["itching", "not_symptom"])
def test_a_phrase_holding_shorthand_is_refused_at_load(table):
    # Messages read 好痕 as 好痒; a lexicon or lookup phrase written 好痕 could never match.
    rules = load_rules("zh")
    with pytest.raises(ValueError, match="好痕.*好 痒"):
        _refuse_shorthand_in_phrases({table: ["皮肤好痕"]}, rules)
    _refuse_shorthand_in_phrases({table: ["皮肤好痒"]}, rules)  # the expansion is fine


@pytest.mark.parametrize("pattern", [r"(in) the \1", r"(?P<x>drip) (?P=x)", r"(a)?(?(1)b|c)"])
def test_infusion_patterns_that_cannot_be_joined_are_refused_at_load(pattern):
    # The window patterns are scanned as one alternation: a group reference would point
    # at another pattern's group there.
    rules = load_rules("en")
    words = TimeWords.from_config(rules.time_words)
    with pytest.raises(ValueError, match="no backreferences"):
        TimingRules.from_config({"during": [pattern]}, words=words)
