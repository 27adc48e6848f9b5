"""Request bodies of the HTTP API (responses follow the design contract's JSON shapes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

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
PatientText = Annotated[
    StrictStr,
    # (the pattern tells the schema's readers what _content checks)
    Field(min_length=1, json_schema_extra={"pattern": "^[^\\u0000]*\\S[^\\u0000]*$"}),
    AfterValidator(_content),
]


def problems(errors: Sequence[Any], skip: int = 0) -> list[dict[str, Any]]:
    """Validation errors as 422 problems: where and why, never the submitted value (it may
    be patient text; NaN or a lone surrogate in it cannot even be written back as JSON).
    `skip` drops leading parts of each location ("query" for a page's form)."""
    return [
        {"loc": list(e.get("loc", ()))[skip:], "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in errors
    ]


def problem_text(errors: Sequence[Any], skip: int = 0) -> str:
    """The same problems as one sentence, for a dashboard page."""
    return "; ".join(
        f"{'.'.join(str(part) for part in p['loc'])}: {p['msg']}" for p in problems(errors, skip)
    )


def errors(*codes: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI entries for the error answers a route really gives: each a JSON `detail`
    saying why (422: a list of problems)."""
    return {code: {"description": ERROR_DESCRIPTIONS[code]} for code in codes}


ERROR_DESCRIPTIONS = {
    400: "The body is not JSON (or not UTF-8).",
    401: "Missing, wrong or expired credentials.",
    403: "Signed in, but this action needs a valid CSRF token.",
    404: "Unknown id (or a token that is not this conversation's: answered alike).",
    409: "The action conflicts with the alert's state (e.g. already resolved).",
    413: "The body or the text is too long.",
}


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
