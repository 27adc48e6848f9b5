"""Checks on patient text arriving from outside (CLI lines, HTTP bodies)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from app.nlu.pipeline import MAX_MESSAGE_CHARS

LANGUAGES = ("en", "zh")


class InputError(ValueError):
    """Input that cannot be triaged; the message says why."""


class TextTooLongError(InputError):
    """A message longer than the service accepts."""


@dataclass(frozen=True)
class TriageRequest:
    text: str
    lang: str | None = None


def check_text_content(text: str) -> str:
    """Not blank and without NUL characters."""
    if not text.strip():
        raise InputError("'text' must not be empty")
    if "\x00" in text:
        raise InputError("'text' must not contain NUL characters")
    return text


def check_text(text: object) -> str:
    """A non-empty string of at most MAX_MESSAGE_CHARS characters, without NUL bytes."""
    if not isinstance(text, str):
        raise InputError("'text' must be a string")
    if len(text) > MAX_MESSAGE_CHARS:
        raise TextTooLongError(
            f"'text' is {len(text)} characters; the limit is {MAX_MESSAGE_CHARS}"
        )
    return check_text_content(text)


def check_lang(lang: object) -> str | None:
    if lang is None:
        return None
    if lang not in LANGUAGES:
        raise InputError(f"'lang' must be one of {', '.join(LANGUAGES)}")
    return str(lang)


def triage_request(line: str) -> TriageRequest:
    """Parse one `triagebot triage --jsonl` input line."""
    if not line.strip():
        raise InputError("empty line: expected a JSON object with 'text'")
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(f"invalid JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(record, dict):
        raise InputError("each line must be a JSON object with 'text'")
    if "text" not in record:
        raise InputError("missing 'text'")
    return TriageRequest(check_text(record["text"]), check_lang(record.get("lang")))
