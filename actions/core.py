"""What the custom actions share: the injected triage core and clinic hours, the turn's
decision, and rendering a triage result as bot messages.

Our service builds the actions with its own triager and clinic hours and hands them the
decision it made for the turn; `rasa run actions` builds them with no arguments, and they
load the same parts once and decide from the tracker themselves.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from app.clinic import ClinicHours
from app.dialogue.decision import TurnDecision, decide
from app.dialogue.domain import default_domain
from app.dialogue.language import LANGUAGE_SLOT
from app.settings import get_settings
from app.triage.engine import TriageResult
from app.triage.reply import fill, reply_lines
from app.triager import Triager


@lru_cache(maxsize=1)
def default_triager() -> Triager:
    """For actions built without one (`rasa run actions`): loaded once, at start-up."""
    return Triager()


def default_clinic() -> ClinicHours:
    return get_settings().clinic()


class TriageAction(Action, metaclass=ABCMeta):
    """An action with the triage core and the clinic hours injected (abstract: rasa-sdk's
    package scan skips it)."""

    def __init__(self, triager: Triager | None = None, clinic: ClinicHours | None = None):
        self.triager = triager or default_triager()
        self.clinic = clinic or default_clinic()

    def decision(self, tracker: Tracker) -> TurnDecision:
        """The turn's decision: the one the runner made, or made here (a Rasa server)."""
        latest = tracker.latest_message or {}
        made = TurnDecision.from_parse(latest)
        if made is not None:
            return made
        return decide(self.triager, latest.get("text") or "", tracker.current_slot_values())

    def utter_result(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        result: TriageResult,
        alerting: bool = True,
    ) -> None:
        """The reply for a triage result, in the conversation's language; a red flag tells
        of the alert with clinic hours."""
        protocol = self.triager.protocol.for_language(tracker.get_slot(LANGUAGE_SLOT))
        notice = self.clinic.notice(words=protocol.clinic_words) if alerting else None
        for line in reply_lines(result, protocol, notice):
            dispatcher.utter_message(text=line.text, json_message=line.custom())

    @abstractmethod
    def name(self) -> str:
        """The action's name in domain.yml."""


DISCLAIMER_DUE = "disclaimer_due"


def say(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    name: str,
    language: str | None = None,
    **values: str,
) -> None:
    """A response from actions/responses.yml, rendered here in the conversation's language
    (a Rasa server has no such response in its domain to render)."""
    slots = tracker.current_slot_values()
    if language:
        slots[LANGUAGE_SLOT] = language
    message = default_domain().render(name, slots)
    dispatcher.utter_message(
        text=fill(message["text"], values),
        buttons=message.get("buttons") or [],
        json_message={"response": name},
    )


def disclaimer(
    dispatcher: CollectingDispatcher, tracker: Tracker, language: str | None = None
) -> list[dict[str, Any]]:
    """The session's disclaimer, when one is due (said once, in the reply's language)."""
    if not tracker.get_slot(DISCLAIMER_DUE):
        return []
    say(dispatcher, tracker, "utter_disclaimer", language)
    return [SlotSet(DISCLAIMER_DUE, False)]


def result_events(tracker: Tracker, result: TriageResult, triager: Triager) -> list[dict[str, Any]]:
    """Slots recording this turn's result; the conversation level never goes down."""
    seen = list(tracker.get_slot("categories") or [])
    level = triager.protocol.higher(tracker.get_slot("conversation_level"), result.level)
    return [
        SlotSet("conversation_level", level),
        SlotSet("categories", seen + [c for c in result.categories if c not in seen]),
    ]
