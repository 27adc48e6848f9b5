"""The Rasa domain (domain.yml): slots, responses, actions; responses rendered here."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_PATH = Path(os.environ.get("TRIAGE_DOMAIN") or ROOT / "domain.yml")
# Responses the custom actions choose and say themselves (not Rasa's to say).
ACTION_RESPONSES_PATH = ROOT / "actions" / "responses.yml"


class DomainError(ValueError):
    """domain.yml is malformed or misses something the bot needs."""


@dataclass(frozen=True)
class Domain:
    data: dict[str, Any]
    action_responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @cached_property
    def responses(self) -> dict[str, list[dict[str, Any]]]:
        """Every response by name: domain.yml's and those the actions say."""
        return {**(self.data.get("responses") or {}), **self.action_responses}

    @property
    def actions(self) -> list[str]:
        return list(self.data.get("actions") or [])

    @property
    def intents(self) -> list[str]:
        return [i if isinstance(i, str) else next(iter(i)) for i in self.data.get("intents") or []]

    @cached_property
    def button_texts(self) -> frozenset[str]:
        """Button payloads that are plain text (sent as if typed), in any variation."""
        return frozenset(
            str(button.get("payload"))
            for variants in self.responses.values()
            for variant in variants
            for button in variant.get("buttons") or []
            if not str(button.get("payload", "")).startswith("/")
        )

    @property
    def session_expiration_minutes(self) -> float:
        return float((self.data.get("session_config") or {}).get("session_expiration_time", 60))

    def initial_slots(self) -> dict[str, Any]:
        return {
            name: spec.get("initial_value") for name, spec in (self.data.get("slots") or {}).items()
        }

    def render(self, name: str, slots: dict[str, Any] | None = None) -> dict[str, Any]:
        """A response as Rasa picks it: the first variation whose conditions the slots meet
        (e.g. `language: zh`), else the first without conditions. {"text", "buttons"?}"""
        variants = self.responses.get(name)
        if not variants:
            raise DomainError(f"domain.yml has no response {name!r}")
        variant = _variation(variants, slots or {})
        message: dict[str, Any] = {"text": variant.get("text", "")}
        if variant.get("buttons"):
            message["buttons"] = [
                {**b, "payload": unescape_braces(str(b.get("payload", "")))}
                for b in variant["buttons"]
            ]
        if variant.get("custom"):
            message["custom"] = dict(variant["custom"])
        return message


def _variation(variants: list[dict[str, Any]], slots: dict[str, Any]) -> dict[str, Any]:
    def met(condition: dict[str, Any]) -> bool:
        return condition.get("type") == "slot" and slots.get(condition["name"]) == condition.get(
            "value"
        )

    for variant in variants:
        if variant.get("condition") and all(met(c) for c in variant["condition"]):
            return variant
    return next((v for v in variants if not v.get("condition")), variants[0])


def unescape_braces(text: str) -> str:
    """Rasa fills `{name}` in responses, so literal braces are written `{{` and `}}`
    (a button payload's JSON entities); as sent, they are single."""
    return text.replace("{{", "{").replace("}}", "}")


def load_domain(path: Path = DOMAIN_PATH, actions: Path = ACTION_RESPONSES_PATH) -> Domain:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or str(data.get("version")) != "3.1":
        raise DomainError(f"{path}: not a Rasa 3.1 domain")
    said = (yaml.safe_load(actions.read_text(encoding="utf-8")) or {}).get("responses") or {}
    twice = sorted(set(said) & set(data.get("responses") or {}))
    if twice:
        raise DomainError(f"{actions}: {', '.join(twice)} also in {path.name}")
    return Domain(data, said)


@lru_cache(maxsize=1)
def default_domain() -> Domain:
    return load_domain()
