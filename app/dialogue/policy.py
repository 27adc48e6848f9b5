"""The dialogue policy: a readable table of (state, intent, triage) -> next actions.

Rules are tried in order and the first that matches decides the turn. A red flag in the
message is answered first, whatever else the message or the state holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass(frozen=True)
class Rule:
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


def rule(then: list[str], note: str, **when) -> Rule:
    for key in ("intents", "levels", "conversation_levels"):
        if key in when:
            when[key] = frozenset(when[key])
    return Rule(then=tuple(then), note=note, **when)


POLICY: tuple[Rule, ...] = (
    rule(["utter_language_unsupported", "action_handoff"], "a language the bot cannot read",
         intents={"unsupported_language"}),
    rule(["action_resolve_infusion_window"], "answer to the timing question",
         pending=WINDOW, answered=True),
    rule(["action_triage_message", "action_handoff"], "more symptoms while asked, and a person",
         pending=WINDOW, new_symptoms=True, levels=SYMPTOMS, intents={"request_human"}),
    rule(["action_triage_message"], "more symptoms while asked when", pending=WINDOW,
         new_symptoms=True, levels=SYMPTOMS),
    rule(["action_triage_message", "action_handoff"], "red flag and asks for a person",
         levels=RED, intents={"request_human"}),
    rule(["action_triage_message"], "red flag: escalate first", levels=RED),
    rule(["action_screen_answer"], "answer to the red-flag screen",
         pending="red_flag_screen", intents={"affirm", "deny"}, levels={"none", "info"}),
    rule(["action_handoff"], "asks for a person", intents={"request_human"}),
    rule(["action_triage_message", "action_red_flag_screen"], "routine symptom",
         levels={"routine"}),
    rule(["action_answer_info"], "question about the medicine or a symptom", levels={"info"}),
    rule(["utter_ask_infusion_window_again"], "an unclear answer to the timing question",
         pending=WINDOW, unclear_answer=True),
    rule(["utter_ask_rephrase"], "a complaint not recognised while the timing question is "
         "open: one question at a time", pending=WINDOW, unrecognised=True),
    rule(["action_unrecognised_screen"], "a complaint with no sign recognised: screen for red "
         "flags instead of 'I did not understand'", unrecognised=True),
    rule(["utter_thanks", "utter_still_emergency"], "thanks in an emergency",
         intents={"thanks"}, conversation_levels={"emergency"}),
    rule(["utter_thanks", "utter_still_urgent"], "thanks while urgent",
         intents={"thanks"}, conversation_levels={"urgent"}),
    rule(["utter_goodbye", "utter_still_emergency"], "goodbye in an emergency",
         intents={"goodbye"}, conversation_levels={"emergency"}),
    rule(["utter_goodbye", "utter_still_urgent"], "goodbye while urgent",
         intents={"goodbye"}, conversation_levels={"urgent"}),
    rule(["utter_greet"], "greeting", intents={"greet"}),
    rule(["utter_thanks"], "thanks", intents={"thanks"}),
    rule(["utter_goodbye"], "goodbye", intents={"goodbye"}),
    rule(["utter_out_of_scope"], "out of scope", intents={"out_of_scope"}),
    rule(["utter_fallback"], "anything else"),
)  # fmt: skip


def next_actions(facts: TurnFacts, policy: tuple[Rule, ...] = POLICY) -> tuple[str, ...]:
    """The actions for this turn: those of the first matching rule, then the open timing
    question again (one line) when the turn did not deal with it."""
    chosen: tuple[str, ...] = ("utter_fallback",)
    for candidate in policy:
        if candidate.matches(facts):
            chosen = candidate.then
            break
    if facts.pending_question == WINDOW and not HANDLES_WINDOW.intersection(chosen):
        if "utter_language_unsupported" not in chosen:
            chosen = (*chosen, REASK_WINDOW)
    return chosen
