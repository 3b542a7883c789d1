"""Validation of citizen messages, shared by the REST channel and the web chat proxy."""

from __future__ import annotations

import re
import unicodedata

from bot.errors import AuskunftError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


class MessageRejected(AuskunftError, ValueError):
    """The message cannot be processed; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def clean_message(text: object, max_chars: int) -> str:
    """Normalise a citizen message or reject it.

    Control characters are removed, Unicode is NFC-normalised, surrounding
    whitespace is stripped. HTML is left as text: it is escaped where shown.

    Raises:
        MessageRejected: not text (400), empty after cleaning (400), or too long (413).
    """
    if not isinstance(text, str):
        raise MessageRejected(400, "'message' must be a text string")
    if len(text) > max_chars * 4:
        raise MessageRejected(413, f"message is too long (at most {max_chars} characters)")
    cleaned = unicodedata.normalize("NFC", _CONTROL.sub("", text)).strip()
    if not cleaned:
        raise MessageRejected(400, "message is empty")
    if len(cleaned) > max_chars:
        raise MessageRejected(413, f"message is too long (at most {max_chars} characters)")
    return cleaned
