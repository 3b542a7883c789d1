"""Replace personal data in free text with placeholders such as ``[E-MAIL]``.

Applied to every transcript line and question before a ticket is stored or a
message is logged. Contact data the citizen deliberately gives in the handoff
form is kept separately and not passed through here.
"""

from __future__ import annotations

import re
from typing import List, Tuple

_PATTERNS: List[Tuple[str, "re.Pattern[str]"]] = [
    ("E-MAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)),
    ("DATUM", re.compile(r"\b(?:0?[1-9]|[12]\d|3[01])\.(?:0?[1-9]|1[0-2])\.(?:19|20)\d{2}\b")),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,3})?\b")),
    ("STEUER-ID", re.compile(r"\b\d{2}[ ]?\d{3}[ ]?\d{3}[ ]?\d{3}\b")),
    ("TELEFON", re.compile(r"(?<![\w+])(?:\+|00)?\d[\d /().-]{6,}\d\b")),
    ("KENNZEICHEN", re.compile(r"\b[A-ZÄÖÜ]{1,3}[- ][A-Z]{1,2}[ ]?\d{1,4}[EH]?\b")),
]


def redact(text: str) -> str:
    """Return ``text`` with e-mail addresses, IBANs, tax ids, phone numbers, dates and plates replaced."""
    for label, pattern in _PATTERNS:
        text = pattern.sub(f"[{label}]", text)
    return text
