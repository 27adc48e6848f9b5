"""data/rules.yml for a Rasa server, written from the rule table in app/dialogue/policy.py
so the two cannot drift (tests/test_rasa_project.py compares them).

    python -m app.dialogue.rasa_rules          # print
    python -m app.dialogue.rasa_rules --write  # rewrite data/rules.yml

Every message is first decided by action_decide_turn, which sets the `turn` slot to the
name of the policy rule that decides it; one Rasa rule per turn then runs that rule's
actions, as our own runner does.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from app.dialogue.domain import default_domain
from app.dialogue.policy import DECIDE_TURN, TURN_SLOT, Turn, possible_turns

RULES_PATH = Path(__file__).resolve().parents[2] / "data" / "rules.yml"
HEADER = (
    "# Written by `python -m app.dialogue.rasa_rules --write` from app/dialogue/policy.py;\n"
    "# edit the policy, not this file (a test fails when they differ).\n"
)


def _turn_rule(turn: Turn) -> dict[str, Any]:
    note = turn.rule.note + (", then the timing question again" if turn.ask_timing_again else "")
    return {
        "rule": f"{turn.name}: {note}",
        "steps": [
            {"action": DECIDE_TURN},
            {"slot_was_set": [{TURN_SLOT: turn.name}]},
            *({"action": name} for name in turn.actions),
        ],
    }


def rules(intents: list[str]) -> dict[str, Any]:
    decide = {
        "rule": "every message: the turn is decided once, before anything is said",
        "steps": [{"or": [{"intent": intent} for intent in intents]}, {"action": DECIDE_TURN}],
        "wait_for_user_input": False,
    }
    return {"version": "3.1", "rules": [decide, *(_turn_rule(t) for t in possible_turns())]}


def rules_yaml() -> str:
    data = rules(default_domain().intents)
    return HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def main(argv: list[str]) -> None:
    text = rules_yaml()
    if "--write" in argv:
        RULES_PATH.parent.mkdir(exist_ok=True)
        RULES_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {RULES_PATH}")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
