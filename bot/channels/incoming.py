"""Validation of citizen messages, shared by the REST channel and the web chat proxy."""

from __future__ import annotations

import re
import unicodedata

from bot.errors import AuskunftError
from bot.privacy.visible import strip_hidden

_LINE_BREAK = re.compile(r"\r\n?|[\u2028\u2029]")


def _visible(text: str) -> str:
    """``text`` without control and format characters (Unicode Cc, Cf) except tab and newline.

    Bidi overrides and isolates (U+202A-202E, U+2066-2069) and zero-width characters would otherwise let a
    citizen hide or reorder text in transcripts and slip past the redaction; line breaks of other systems
    become a newline first.
    """
    return strip_hidden(_LINE_BREAK.sub("\n", text))


class MessageRejected(AuskunftError, ValueError):
    """The message cannot be processed; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def clean_message(text: object, max_chars: int) -> str:
    """Normalise a citizen message or reject it.

    Control and format characters (except tab and newline) are removed, Unicode is NFKC-normalised (fullwidth
    ``＠`` becomes ``@``, so the redaction sees what a person reads), surrounding whitespace is stripped. HTML is
    left as text: it is escaped where shown.

    Raises:
        MessageRejected: not text (400), empty after cleaning (400), or too long (413).
    """
    if not isinstance(text, str):
        raise MessageRejected(400, "'message' must be a text string")
    if len(text) > max_chars * 4:
        raise MessageRejected(413, f"message is too long (at most {max_chars} characters)")
    cleaned = unicodedata.normalize("NFKC", _visible(text)).strip()
    if not cleaned:
        raise MessageRejected(400, "message is empty")
    if len(cleaned) > max_chars:
        raise MessageRejected(413, f"message is too long (at most {max_chars} characters)")
    return cleaned
