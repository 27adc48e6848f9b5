"""The Rasa project files a Rasa user trains and runs (config.yml, data/rules.yml,
endpoints.yml, credentials.yml, domain.yml) agree with our own dialogue. Rasa itself is
not installed here (it pulls TensorFlow): `make rasa-check` trains and runs it."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from app.clinic import ClinicHours
from app.dialogue.domain import ACTION_RESPONSES_PATH, default_domain
from app.dialogue.policy import (
    DECIDE_TURN,
    POLICY,
    REASK_WINDOW,
    TURN_SLOT,
    TurnFacts,
    decide_turn,
    next_actions,
    possible_turns,
)
from app.dialogue.rasa_rules import RULES_PATH, rules_yaml
from app.dialogue.runner import DialogueEngine

ROOT = Path(__file__).resolve().parents[1]
STEP_KEYS = {"intent", "action", "slot_was_set", "or"}


def load(name: str):
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def test_rules_file_is_written_from_the_policy():
    assert RULES_PATH.read_text(encoding="utf-8") == rules_yaml(), (
        "data/rules.yml differs from app/dialogue/policy.py: "
        "run `python -m app.dialogue.rasa_rules --write`"
    )


def test_every_turn_has_one_rule_and_one_slot_value():
    domain = default_domain()
    names = [turn.name for turn in possible_turns()]
    assert len(names) == len(set(names))
    assert domain.data["slots"][TURN_SLOT]["values"] == names
    rules = load("data/rules.yml")["rules"]
    decided = [r for r in rules if r["steps"][0] == {"action": DECIDE_TURN}]
    assert [r["steps"][1]["slot_was_set"][0][TURN_SLOT] for r in decided] == names
    # Only the turn steers Rasa's RulePolicy; the other slots are memory for the actions.
    steering = [n for n, s in domain.data["slots"].items() if s.get("influence_conversation")]
    assert steering == [TURN_SLOT]


def test_rules_are_well_formed_and_name_only_known_actions_and_intents():
    domain = default_domain()
    known = set(domain.actions) | set(domain.data["responses"])
    data = load("data/rules.yml")
    assert str(data["version"]) == "3.1"
    for rule in data["rules"]:
        assert set(rule) <= {"rule", "steps", "wait_for_user_input", "condition"}
        for step in rule["steps"]:
            assert len(step) == 1 and set(step) <= STEP_KEYS, step
            if "action" in step:
                assert step["action"] in known, step
            for option in step.get("or", []):
                assert option["intent"] in domain.intents
    first = data["rules"][0]
    assert [o["intent"] for o in first["steps"][0]["or"]] == domain.intents
    assert first["steps"][1] == {"action": DECIDE_TURN} and first["wait_for_user_input"] is False


def test_responses_the_actions_say_are_not_rasas_to_say():
    """Rasa's validator warns on domain responses no rule names: those the actions choose
    live in actions/responses.yml, each said by an action, with a Chinese variation."""
    domain = default_domain()
    said = yaml.safe_load(ACTION_RESPONSES_PATH.read_text(encoding="utf-8"))["responses"]
    rules_text = (ROOT / "data" / "rules.yml").read_text(encoding="utf-8")
    actions_code = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "actions").glob("*.py"))
    runner_code = (ROOT / "app" / "dialogue" / "runner.py").read_text(encoding="utf-8")
    for name, variants in said.items():
        assert name not in domain.data["responses"] and f"action: {name}\n" not in rules_text
        assert f'"{name}"' in actions_code or f'"{name}"' in runner_code, name
        assert any(c.get("value") == "zh" for v in variants for c in v.get("condition", []))
    for name in domain.data["responses"]:
        assert f"action: {name}\n" in rules_text, f"{name}: a domain response no rule says"


def test_config_runs_our_nlu_component_and_the_rule_policy():
    config = load("config.yml")
    assert config["recipe"] == "default.v1" and config["assistant_id"]
    [component] = config["pipeline"]
    module, _, cls = component["name"].rpartition(".")
    source = (ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8")
    tree = ast.parse(source)
    [found] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls]
    methods = {n.name for n in found.body if isinstance(n, ast.FunctionDef)}
    assert {"create", "process"} <= methods  # Rasa's GraphComponent interface
    assert [p["name"] for p in config["policies"]] == ["RulePolicy"]
    assert config["policies"][0]["core_fallback_action_name"] in default_domain().responses


def test_endpoints_and_credentials_point_at_our_service():
    assert load("endpoints.yml")["action_endpoint"]["url"] == "http://localhost:8000/webhook"
    assert "rest" in load("credentials.yml")


def test_the_rasa_component_is_never_imported_by_the_service():
    for path in [*(ROOT / "app").rglob("*.py"), *(ROOT / "actions").glob("*.py")]:
        if path.name != "rasa_component.py":
            assert "rasa_component" not in path.read_text(encoding="utf-8"), path


FACTS = [
    TurnFacts("report_symptom", "emergency", None, "none"),
    TurnFacts("greet", "none", "infusion_window", "urgent"),
    TurnFacts("thanks", "none", None, "emergency"),
    TurnFacts("request_human", "urgent", None, "none"),
    TurnFacts("affirm", "none", "infusion_window", "none", answered=True),
    TurnFacts("deny", "none", "red_flag_screen", "routine"),
    TurnFacts("nlu_fallback", "none", "infusion_window", "none", unrecognised=True),
]


@pytest.mark.parametrize("facts", FACTS, ids=lambda f: f"{f.intent}-{f.level}")
def test_the_rule_for_a_turn_runs_the_policys_actions(facts):
    turn = decide_turn(facts)
    rules = {r["rule"].split(":")[0]: r for r in load("data/rules.yml")["rules"][1:]}
    steps = rules[turn.name]["steps"][2:]
    assert tuple(s["action"] for s in steps) == next_actions(facts)
    assert (REASK_WINDOW in next_actions(facts)) == turn.ask_timing_again


def test_the_last_rule_matches_anything():
    assert not POLICY[-1].intents and not POLICY[-1].levels and POLICY[-1].pending is None


async def test_our_runner_records_the_turn_as_rasa_would(triager):
    engine = DialogueEngine(triager, ClinicHours.parse("Mon-Sun 00:00-24:00"))
    state = engine.new_state("rasa-parity")
    outcome = await engine.handle(state, "my lips and tongue are swelling up", datetime.now(UTC))
    assert outcome.slots[TURN_SLOT] == "red_flag"
    assert outcome.actions == ["action_triage_message"]
    texts = [m["text"] for m in outcome.messages]
    # The red flag's advice first, then the new session's disclaimer.
    assert "emergency number" in texts[0] and "automated assistant" in texts[-1]
