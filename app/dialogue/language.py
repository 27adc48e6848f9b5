"""The conversation's language, decided per message (patients switch; widgets guess)."""

from __future__ import annotations

from app.nlu.sound import has_han

LANGUAGE_SLOT = "language"
MIN_WORDS_TO_SWITCH = 2  # "ok", "Tysabri?" or "1" keep the conversation's language


def message_language(
    text: str, detected: str | None, current: str, button_texts: frozenset[str]
) -> str:
    """The language to answer in after this message: the message's own when it clearly has
    one; the conversation's for a button the bot offered (its payload is English text),
    a short message or a payload."""
    if detected is None or text.strip() in button_texts:
        return current
    if has_han(text):
        return detected
    words = [word for word in text.split() if any(c.isalpha() for c in word)]
    return detected if len(words) >= MIN_WORDS_TO_SWITCH else current
