"""Request bodies of the HTTP API (responses follow the design contract's JSON shapes)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr

from app.inputs import InputError, check_text_content
from app.nlu.pipeline import MAX_MESSAGE_CHARS


def _content(value: str) -> str:
    try:
        return check_text_content(value)
    except InputError as error:
        raise ValueError(str(error)) from None


# A patient's message: a non-blank string without NUL characters. Its length is checked by
# `refuse_too_long`, since an over-long message is 413, not 422.
PatientText = Annotated[StrictStr, Field(min_length=1), AfterValidator(_content)]


class TooLongError(Exception):
    """Raised for a message over MAX_MESSAGE_CHARS; answered with 413."""

    def __init__(self, length: int) -> None:
        super().__init__(f"message is {length} characters; the limit is {MAX_MESSAGE_CHARS}")


def refuse_too_long(text: str) -> str:
    if len(text) > MAX_MESSAGE_CHARS:
        raise TooLongError(len(text))
    return text


class TextRequest(BaseModel):
    """A patient message to parse or triage."""

    model_config = ConfigDict(extra="ignore")

    text: PatientText = Field(description="The patient's message.")
    lang: Literal["en", "zh"] | None = Field(default=None, description="Detected when omitted.")
