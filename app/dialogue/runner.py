"""One conversation turn: NLU, triage, policy, then the actions through rasa-sdk.

No database here: the caller loads the conversation state, calls `handle`, and saves the
outcome in one transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import rasa_sdk
from rasa_sdk.executor import ActionExecutor

from actions import build_actions
from actions.core import DISCLAIMER_DUE
from app.clinic import ClinicHours
from app.dialogue.decision import DECISION_KEY, TurnDecision, decide
from app.dialogue.domain import Domain, default_domain
from app.dialogue.language import LANGUAGE_SLOT, message_language
from app.dialogue.policy import DECIDE_TURN, TURN_SLOT, turn_named
from app.triage.reply import fill, response_line
from app.triager import Triager

DISCLAIMER = "utter_disclaimer"


@dataclass
class ConversationState:
    """What a turn needs from storage."""

    sender_id: str
    slots: dict[str, Any]
    last_activity: datetime | None = None


@dataclass
class TurnOutcome:
    """What a turn produced: bot messages, new slots, events, and the triage summary."""

    messages: list[dict[str, Any]]
    slots: dict[str, Any]
    events: list[dict[str, Any]]
    parse: dict[str, Any]
    level: str
    categories: list[str]
    conversation_level: str
    new_session: bool
    actions: list[str] = field(default_factory=list)
    handoff: bool = False
    decision: TurnDecision | None = None


class DialogueEngine:
    """Runs turns of the conversation with the rasa-sdk ActionExecutor, in-process."""

    def __init__(self, triager: Triager, clinic: ClinicHours, domain: Domain | None = None) -> None:
        self.triager = triager
        self.domain = domain or default_domain()
        # Two executors with the same actions: ours for the service's own channels, and
        # one for a real Rasa calling /webhook, whose cached domain (rasa-sdk keeps the
        # last one sent, checked by digest) our turns must never replace: Rasa would get a
        # 449 and have to send its domain again.
        self.executor = ActionExecutor()
        self.action_server = ActionExecutor()
        # Explicit (register_package would sys.exit on errors), with our parts injected.
        for action in build_actions(triager, clinic):
            self.executor.register_action(action)
            self.action_server.register_action(action)

    def new_state(self, sender_id: str) -> ConversationState:
        return ConversationState(sender_id=sender_id, slots=self.domain.initial_slots())

    async def start_session(
        self, state: ConversationState
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Open a session (disclaimer); returns the messages and the slots after it."""
        slots = dict(state.slots)
        await self._run("action_session_start", state.sender_id, slots, None, [])
        # No message to answer: the disclaimer due is said at once.
        message = self.domain.render(DISCLAIMER, slots)
        message["custom"] = {"response": DISCLAIMER}
        slots[DISCLAIMER_DUE] = False
        return [message], slots

    def session_expired(self, state: ConversationState, now: datetime) -> bool:
        if state.last_activity is None:
            return True
        limit = timedelta(minutes=self.domain.session_expiration_minutes)
        return limit.total_seconds() > 0 and now - state.last_activity > limit

    # ------------------------------------------------------------------ turn

    async def handle(self, state: ConversationState, text: str, now: datetime) -> TurnOutcome:
        slots = dict(state.slots)
        protocol = self.triager.protocol
        previous_level = slots.get("conversation_level") or "none"
        events: list[dict[str, Any]] = []
        # The one decision of this turn; the actions find it in the latest message.
        decision = decide(self.triager, text, slots)
        parse = decision.parse
        slots[LANGUAGE_SLOT] = message_language(
            text, parse.get("lang"), slots.get(LANGUAGE_SLOT) or slots.get("lang") or "en",
            self.domain.button_texts,
        )  # fmt: skip
        latest = {**parse, DECISION_KEY: decision.to_dict()}
        level = decision.level

        new_session = self.session_expired(state, now)
        if new_session:  # the disclaimer is then due: the turn's actions say it in its place
            await self._run("action_session_start", state.sender_id, slots, None, events)

        events.append(
            {"event": "user", "timestamp": time.time(), "text": text, "parse_data": parse}
        )
        # action_decide_turn first, as a Rasa server runs it (data/rules.yml): it picks the
        # policy's rule for the decision, records it in the `turn` slot and says a due
        # disclaimer (after a red flag's advice when there is one); then that rule's actions.
        messages = await self._run(DECIDE_TURN, state.sender_id, slots, latest, events)
        chosen = list(turn_named(slots[TURN_SLOT]).actions)
        for name in chosen:
            messages += await self._run(name, state.sender_id, slots, latest, events)

        categories = list(decision.result.categories) if decision.result else []
        conversation_level = protocol.higher(previous_level, level)
        slots["conversation_level"] = conversation_level
        triage = {
            "level": level,
            "categories": categories,
            "conversation_level": conversation_level,
        }
        if not messages:
            messages.append({"text": self.domain.render("utter_fallback", slots)["text"]})
        first = messages[0]
        first["custom"] = {**(first.get("custom") or {}), "triage": triage}
        return TurnOutcome(
            messages=messages,
            slots=slots,
            events=events,
            parse=parse,
            level=level,
            categories=categories,
            conversation_level=conversation_level,
            new_session=new_session,
            actions=chosen,
            handoff="action_handoff" in chosen,
            decision=decision,
        )

    # ------------------------------------------------------------------ actions

    async def _run(
        self,
        name: str,
        sender_id: str,
        slots: dict[str, Any],
        parse: dict[str, Any] | None,
        events: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """Run one action (or utter a response) and apply its events to `slots`."""
        events.append({"event": "action", "name": name, "timestamp": time.time()})
        if name.startswith("utter_"):
            if name in self.triager.protocol.responses:  # clinical text lives in the protocol
                protocol = self.triager.protocol.for_language(slots.get(LANGUAGE_SLOT))
                line = response_line(protocol, name)
                if line is None:
                    return []
                message = {"text": line.text, "custom": line.custom()}
            else:
                message = self.domain.render(name, slots)
                message["custom"] = {**message.get("custom", {}), "response": name}
            events.append({"event": "bot", "text": message["text"], "timestamp": time.time()})
            return [message]
        tracker = {
            "sender_id": sender_id,
            "slots": dict(slots),
            "latest_message": parse or {},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
        call = {
            "next_action": name,
            "sender_id": sender_id,
            "tracker": tracker,
            "domain": self.domain.data,
            "version": rasa_sdk.__version__,
        }
        result = await self.executor.run(call)
        if result is None:
            return []
        outcome = result.model_dump()
        for event in outcome.get("events") or []:
            events.append(event)
            if event.get("event") == "slot":
                slots[event["name"]] = event.get("value")
        messages = []
        for response in outcome.get("responses") or []:
            messages.append(self._render(response, slots))
            events.append({"event": "bot", "text": messages[-1]["text"], "timestamp": time.time()})
        return messages

    def _render(self, response: dict[str, Any], slots: dict[str, Any]) -> dict[str, Any]:
        """A dispatcher message as the channels send it: text, buttons, custom."""
        name = response.get("response") or response.get("template")
        message: dict[str, Any] = (
            self.domain.render(name, slots) if name else {"text": response.get("text") or ""}
        )
        if name:
            # Rasa's response variables: utter_message(response=..., hours=...)
            values = {k: v for k, v in response.items() if isinstance(v, str)}
            message["text"] = fill(message["text"], values)
            message.setdefault("custom", {})["response"] = name
        if response.get("buttons"):
            message["buttons"] = response["buttons"]
        custom = response.get("custom") or {}
        if custom:
            message["custom"] = {**message.get("custom", {}), **custom}
        if not message.get("custom"):
            message.pop("custom", None)
        return message
