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
    level: str  # the latest message's own triage level
    pending_question: str | None
    conversation_level: str
    gives_window: bool = False  # the message says when the infusion was


@dataclass(frozen=True)
class Rule:
    then: tuple[str, ...]
    intents: frozenset[str] = field(default_factory=frozenset)  # empty: any intent
    levels: frozenset[str] = field(default_factory=frozenset)  # empty: any level
    pending: str | None = None  # required pending question; None: any
    conversation_levels: frozenset[str] = field(default_factory=frozenset)
    gives_window: bool | None = None
    note: str = ""

    def matches(self, facts: TurnFacts) -> bool:
        return (
            (not self.intents or facts.intent in self.intents)
            and (not self.levels or facts.level in self.levels)
            and (self.pending is None or facts.pending_question == self.pending)
            and (
                not self.conversation_levels or facts.conversation_level in self.conversation_levels
            )
            and (self.gives_window is None or facts.gives_window == self.gives_window)
        )


RED = frozenset({"emergency", "urgent"})
ANSWERS = frozenset({"affirm", "deny", "inform_infusion_timing"})
CLOSING = frozenset({"thanks", "goodbye"})


def rule(then: list[str], note: str, **when) -> Rule:
    for key in ("intents", "levels", "conversation_levels"):
        if key in when:
            when[key] = frozenset(when[key])
    return Rule(then=tuple(then), note=note, **when)


POLICY: tuple[Rule, ...] = (
    rule(["utter_language_unsupported", "action_handoff"], "a language the bot cannot read",
         intents={"unsupported_language"}),
    rule(["action_resolve_infusion_window"], "answer to the timing question",
         pending="infusion_window", intents=ANSWERS),
    rule(["action_resolve_infusion_window"], "timing given in words while asked",
         pending="infusion_window", gives_window=True),
    rule(["action_triage_message", "action_handoff"], "red flag and asks for a person",
         levels=RED, intents={"request_human"}),
    rule(["action_triage_message"], "red flag: escalate first", levels=RED),
    rule(["action_screen_answer"], "answer to the red-flag screen",
         pending="red_flag_screen", intents={"affirm", "deny"}, levels={"none", "info"}),
    rule(["action_handoff"], "asks for a person", intents={"request_human"}),
    rule(["action_triage_message", "action_red_flag_screen"], "routine symptom",
         levels={"routine"}),
    rule(["action_answer_info"], "question about the medicine or a symptom", levels={"info"}),
    rule(["utter_ask_infusion_window_again"], "timing question still open",
         pending="infusion_window"),
    rule(["utter_ask_rephrase"], "symptom not recognised", intents={"report_symptom"}),
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
    """The actions for this turn: those of the first matching rule."""
    for candidate in policy:
        if candidate.matches(facts):
            return candidate.then
    return ("utter_fallback",)
