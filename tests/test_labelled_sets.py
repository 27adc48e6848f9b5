"""The repo's own labelled message sets: no red flag under-triaged, and accurate levels."""

from __future__ import annotations

import pytest

from app.evaluation import Outcome, Report, read_labelled
from app.nlu.training_data import NLU_DATA_DIR
from app.triage.protocol import default_protocol

# The repo's labelled sets (nlu_data/en/labelled/) are regression sets: the safety net
# trains on them and make test checks them. Sets in tests/data/ are kept unseen by both,
# to measure how the NLU generalises; they are evaluated by hand (`triagebot evaluate`).
SETS = sorted((NLU_DATA_DIR / "en" / "labelled").glob("*-en.jsonl"))
MIN_EXACT_LEVEL = 0.95
# Sets still below 95% keep their own floors (exact level, first category), so they guard
# against regressions too; no red flag in them is under-triaged (checked per message).
# heldout19 (long multi-part messages): misses over-triage a relative's or an old illness
# told after a comma ("my dad had a stroke at 70, face drooping and all that").
# heldout22 (over-triage traps): misses are info questions answered as "none" (no
# symptom or topic words: "how would I know if my liver was struggling?").
# heldout24 (who is the patient?): misses over-triage a carer's own or a bystander's
# illness ("I ended up in A&E myself with chest pains, but he's the one on tysabri").
SET_FLOORS = {
    "heldout19-en": (0.94, 0.95),
    "heldout22-en": (0.92, 0.90),
    "heldout24-en": (0.93, 0.95),
}
MIN_FIRST_CATEGORY = 0.95


def _items():
    for path in SETS:
        for item in read_labelled(path):
            yield pytest.param(item, id=f"{path.stem}:{item.line}")


@pytest.fixture(scope="module")
def reports(triager) -> dict[str, Report]:
    result = {}
    for path in SETS:
        report = Report()
        for item in read_labelled(path):
            _, triage = triager.assess(item.text, item.lang)
            report.outcomes.append(Outcome(item, triage.level, triage.categories))
        result[path.stem] = report
    return result


def test_the_repo_has_labelled_sets():
    assert len(SETS) >= 2, "nlu_data/en/labelled/*-en.jsonl missing"


@pytest.mark.parametrize(
    "item", [p for p in _items() if p.values[0].level in {"urgent", "emergency"}]
)
def test_red_flag_is_not_under_triaged(triager, item):
    _, result = triager.assess(item.text, item.lang)
    floor = {"urgent": ("urgent", "emergency"), "emergency": ("emergency",)}[item.level]
    assert result.level in floor, f"{item.text!r}: {result.level} {result.categories}"


@pytest.mark.parametrize("name", [p.stem for p in SETS])
def test_exact_level_accuracy(reports, name):
    summary = reports[name].to_dict()
    wrong = [(r["text"], r["expected"], r["predicted"]) for r in summary["wrong_level"]]
    floor = SET_FLOORS.get(name, (MIN_EXACT_LEVEL, MIN_FIRST_CATEGORY))[0]
    assert summary["exact_level"] >= floor, wrong


@pytest.mark.parametrize("name", [p.stem for p in SETS])
def test_first_category_recall(reports, name):
    summary = reports[name].to_dict()
    missed = [
        (r["text"], r["expected_categories"], r["predicted_categories"])
        for r in summary["missed_first_category"]
    ]
    floor = SET_FLOORS.get(name, (MIN_EXACT_LEVEL, MIN_FIRST_CATEGORY))[1]
    assert summary["first_category_recall"] >= floor, missed


PROTOCOL = default_protocol()
PROTOCOL_NAMES = sorted({*PROTOCOL.categories, *PROTOCOL.info_topics})


@pytest.mark.parametrize("name", PROTOCOL_NAMES)
def test_every_category_and_topic_has_eight_messages_triaged_right(reports, name):
    """Per category / info topic: at least 8 labelled messages lead with it, and at least 90%
    of them get the exact level and report the category."""
    outcomes = [
        o for report in reports.values() for o in report.outcomes if o.item.categories[:1] == [name]
    ]
    assert len(outcomes) >= 8, f"only {len(outcomes)} labelled messages lead with {name}"
    right = [o for o in outcomes if o.level == o.item.level and name in o.categories]
    wrong = [(o.item.text, o.level, o.categories) for o in outcomes if o not in right]
    assert len(right) / len(outcomes) >= 0.9, wrong
