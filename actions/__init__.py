"""Custom actions (rasa-sdk), served in-process and at /webhook for a real Rasa server."""

from __future__ import annotations

from rasa_sdk import Action

from actions.handoff import ActionHandoff
from actions.info import ActionAnswerInfo
from actions.screening import ActionRedFlagScreen, ActionScreenAnswer
from actions.session import ActionSessionStart
from actions.triage import ActionResolveInfusionWindow, ActionTriageMessage

ALL_ACTIONS: tuple[type[Action], ...] = (
    ActionSessionStart,
    ActionTriageMessage,
    ActionResolveInfusionWindow,
    ActionAnswerInfo,
    ActionRedFlagScreen,
    ActionScreenAnswer,
    ActionHandoff,
)
