"""Request bodies of the triage API (responses follow the design contract's JSON shapes)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from app.nlu.pipeline import MAX_MESSAGE_CHARS


class TextRequest(BaseModel):
    """A patient message to parse or triage."""

    model_config = ConfigDict(extra="ignore")

    text: StrictStr = Field(min_length=1, description="The patient's message.")
    lang: Literal["en", "zh"] | None = Field(default=None, description="Detected when omitted.")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be blank")
        if "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        return value


class TooLongError(Exception):
    """Raised for a message over MAX_MESSAGE_CHARS; answered with 413."""

    def __init__(self, length: int) -> None:
        super().__init__(f"message is {length} characters; the limit is {MAX_MESSAGE_CHARS}")
