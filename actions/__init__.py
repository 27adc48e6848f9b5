"""Custom actions (rasa-sdk), served in-process and at /webhook for a real Rasa server."""

from __future__ import annotations

from rasa_sdk import Action

from actions.core import TriageAction
from actions.handoff import ActionHandoff
from actions.info import ActionAnswerInfo
from actions.reminder import ActionRemindLevel
from actions.screening import ActionRedFlagScreen, ActionScreenAnswer, ActionUnrecognisedScreen
from actions.session import ActionSessionStart
from actions.triage import ActionResolveInfusionWindow, ActionTriageMessage
from actions.turn import ActionDecideTurn
from app.clinic import ClinicHours
from app.triager import Triager

ALL_ACTIONS: tuple[type[Action], ...] = (
    ActionSessionStart,
    ActionTriageMessage,
    ActionResolveInfusionWindow,
    ActionAnswerInfo,
    ActionRedFlagScreen,
    ActionScreenAnswer,
    ActionUnrecognisedScreen,
    ActionHandoff,
    ActionRemindLevel,
    ActionDecideTurn,
)


def build_actions(triager: Triager, clinic: ClinicHours) -> list[Action]:
    """Every action, with the service's triage core and clinic hours injected."""
    return [
        action(triager, clinic) if issubclass(action, TriageAction) else action()
        for action in ALL_ACTIONS
    ]
