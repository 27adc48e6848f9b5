"""The dialogue policy: a readable table of (state, intent, triage) -> next actions.

Rules are tried in order and the first that matches decides the turn. A red flag in the
message is answered first, whatever else the message or the state holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.dialogue.decision import TurnDecision


@dataclass(frozen=True)
class TurnFacts:
    """What the policy looks at."""

    intent: str
    level: str  # the turn's triage level (with any symptoms waiting for the timing answer)
    pending_question: str | None
    conversation_level: str
    answered: bool = False  # the message answers the open timing question
    unclear_answer: bool = False  # it tries to, but gives no usable answer ("not sure")
    new_symptoms: bool = False  # the message reports symptoms of its own
    unrecognised: bool = False  # it reads like a health complaint, but no sign was found

    @classmethod
    def of(cls, decision: TurnDecision, slots: dict[str, Any]) -> TurnFacts:
        """The facts of a decided turn, with the conversation's slots before it."""
        return cls(
            intent=decision.intent,
            level=decision.level,
            pending_question=slots.get("pending_question"),
            conversation_level=slots.get("conversation_level") or "none",
            answered=decision.answered,
            unclear_answer=decision.unclear_answer,
            new_symptoms=decision.new_symptoms,
            unrecognised=decision.unrecognised,
        )


@dataclass(frozen=True)
class Rule:
    name: str  # its id: the `turn` slot's value and the rule's name in data/rules.yml
    then: tuple[str, ...]
    intents: frozenset[str] = field(default_factory=frozenset)  # empty: any intent
    levels: frozenset[str] = field(default_factory=frozenset)  # empty: any level
    pending: str | None = None  # required pending question; None: any
    conversation_levels: frozenset[str] = field(default_factory=frozenset)
    answered: bool | None = None
    unclear_answer: bool | None = None
    new_symptoms: bool | None = None
    unrecognised: bool | None = None
    note: str = ""

    def matches(self, facts: TurnFacts) -> bool:
        return (
            (not self.intents or facts.intent in self.intents)
            and (not self.levels or facts.level in self.levels)
            and (self.pending is None or facts.pending_question == self.pending)
            and (
                not self.conversation_levels or facts.conversation_level in self.conversation_levels
            )
            and all(
                getattr(self, flag) is None or getattr(self, flag) == getattr(facts, flag)
                for flag in ("answered", "unclear_answer", "new_symptoms", "unrecognised")
            )
        )


RED = frozenset({"emergency", "urgent"})
SYMPTOMS = frozenset({"emergency", "urgent", "routine"})
CLOSING = frozenset({"thanks", "goodbye"})
WINDOW = "infusion_window"
# Actions that deal with the open timing question themselves; after any other turn the
# question is asked again, in one line, after answering what the patient wrote.
HANDLES_WINDOW = frozenset({
    "action_resolve_infusion_window", "action_triage_message", "utter_ask_infusion_window_again",
})  # fmt: skip
REASK_WINDOW = "utter_ask_infusion_window_pending"
TURN_SLOT = "turn"  # the decided rule's name, set by DECIDE_TURN (actions/turn.py)
DECIDE_TURN = "action_decide_turn"  # the first action of every turn


def rule(name: str, then: list[str], note: str, **when) -> Rule:
    for key in ("intents", "levels", "conversation_levels"):
        if key in when:
            when[key] = frozenset(when[key])
    return Rule(name=name, then=tuple(then), note=note, **when)


POLICY: tuple[Rule, ...] = (
    rule("unsupported_language", ["utter_language_unsupported", "action_handoff"],
         "a language the bot cannot read", intents={"unsupported_language"}),
    rule("timing_answer", ["action_resolve_infusion_window"], "answer to the timing question",
         pending=WINDOW, answered=True),
    rule("more_symptoms_and_person", ["action_triage_message", "action_handoff"],
         "more symptoms while asked, and a person", pending=WINDOW, new_symptoms=True,
         levels=SYMPTOMS, intents={"request_human"}),
    rule("more_symptoms", ["action_triage_message"], "more symptoms while asked when",
         pending=WINDOW, new_symptoms=True, levels=SYMPTOMS),
    rule("red_flag_and_person", ["action_triage_message", "action_handoff"],
         "red flag and asks for a person", levels=RED, intents={"request_human"}),
    rule("red_flag", ["action_triage_message"], "red flag: escalate first", levels=RED),
    rule("screen_answer", ["action_screen_answer"], "answer to the red-flag screen",
         pending="red_flag_screen", intents={"affirm", "deny"}, levels={"none", "info"}),
    rule("person", ["action_handoff"], "asks for a person", intents={"request_human"}),
    rule("routine_symptom", ["action_triage_message", "action_red_flag_screen"],
         "routine symptom", levels={"routine"}),
    rule("question", ["action_answer_info"], "question about the medicine or a symptom",
         levels={"info"}),
    rule("unclear_timing_answer", ["utter_ask_infusion_window_again"],
         "an unclear answer to the timing question", pending=WINDOW, unclear_answer=True),
    rule("unrecognised_while_asked", ["utter_ask_rephrase"], "a complaint not recognised while "
         "the timing question is open: one question at a time", pending=WINDOW,
         unrecognised=True),
    rule("unrecognised", ["action_unrecognised_screen"], "a complaint with no sign recognised: "
         "screen for red flags instead of 'I did not understand'", unrecognised=True),
    rule("thanks_while_red", ["utter_thanks", "action_remind_level"],
         "thanks in an emergency or while urgent: the advice again",
         intents={"thanks"}, conversation_levels=RED),
    rule("goodbye_while_red", ["utter_goodbye", "action_remind_level"],
         "goodbye in an emergency or while urgent: the advice again",
         intents={"goodbye"}, conversation_levels=RED),
    rule("greeting", ["utter_greet"], "greeting", intents={"greet"}),
    rule("thanks", ["utter_thanks"], "thanks", intents={"thanks"}),
    rule("goodbye", ["utter_goodbye"], "goodbye", intents={"goodbye"}),
    rule("out_of_scope", ["utter_out_of_scope"], "out of scope", intents={"out_of_scope"}),
    rule("anything_else", ["utter_fallback"], "anything else"),
)  # fmt: skip


@dataclass(frozen=True)
class Turn:
    """The rule that decides a turn, and whether the open timing question is asked again
    after it (in one line, when the rule's actions did not deal with it)."""

    rule: Rule
    ask_timing_again: bool = False

    @property
    def name(self) -> str:
        """The `turn` slot's value for a Rasa server (data/rules.yml has one rule per name)."""
        return f"{self.rule.name}{ASK_AGAIN_SUFFIX}" if self.ask_timing_again else self.rule.name

    @property
    def actions(self) -> tuple[str, ...]:
        return (*self.rule.then, REASK_WINDOW) if self.ask_timing_again else self.rule.then


ASK_AGAIN_SUFFIX = "_then_ask_timing"


def asks_timing_again(then: tuple[str, ...]) -> bool:
    """Whether, with the timing question open, these actions leave it to be asked again."""
    return not HANDLES_WINDOW.intersection(then) and "utter_language_unsupported" not in then


def possible_turns(policy: tuple[Rule, ...] = POLICY) -> list[Turn]:
    """Every turn a conversation can take: each rule, and with the timing question asked
    again where the rule leaves it open (the `turn` slot's values, data/rules.yml's rules)."""
    turns = []
    for candidate in policy:
        again = asks_timing_again(candidate.then)
        if candidate.pending != WINDOW or not again:
            turns.append(Turn(candidate))
        if again and candidate.pending in (None, WINDOW):
            turns.append(Turn(candidate, ask_timing_again=True))
    return turns


def turn_named(name: str, policy: tuple[Rule, ...] = POLICY) -> Turn:
    """The turn whose name the `turn` slot holds."""
    return next(turn for turn in possible_turns(policy) if turn.name == name)


def decide_turn(facts: TurnFacts, policy: tuple[Rule, ...] = POLICY) -> Turn:
    """The first matching rule (the last rule matches anything)."""
    chosen = next(candidate for candidate in policy if candidate.matches(facts))
    again = facts.pending_question == WINDOW and asks_timing_again(chosen.then)
    return Turn(chosen, again)


def next_actions(facts: TurnFacts, policy: tuple[Rule, ...] = POLICY) -> tuple[str, ...]:
    """The actions for this turn."""
    return decide_turn(facts, policy).actions
