"""Placeholder text left in a kb entry: ``[Platzhalter]``, ``TODO``, ``XXX``, ``lorem ipsum``, ``example.com`` hosts.

Text like this marks a figure, an address or a sentence someone still has to fill in. Citizens must never get it,
so ``auskunft kb check`` reports each one as an error (``placeholder``), and the editor's form refuses to save an
entry that has one. Redaction placeholders in logged questions (``[E-MAIL]``) are another matter
(:mod:`bot.editor.placeholders`).

What counts:

- ``[Platzhalter]``, ``[Placeholder]`` and ``[TBD]`` (any case; also with text after a colon,
  ``[Platzhalter: Gebühr]``);
- ``TODO``, ``TBD``, ``FIXME`` and ``XXX`` (three or more ``X``) written in capitals as a word of their own;
- ``lorem ipsum`` (any case);
- a host whose name is ``example.`` followed by a top-level domain (``example.com``, ``www.example.org``,
  ``example.de``), in a link, an e-mail address or plain text. Hosts under the reserved top-level domain
  ``.example`` (``musterstadt.example``) are not counted: the sample kb's fictional city uses them on purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List

BRACKETED = r"\[(?:platzhalter|placeholder|tbd)(?:\s*:[^\]\n]*)?\]"
MARKER = r"(?<![\w-])(?-i:TODO|TBD|FIXME|X{3,})(?![\w-])"
LOREM = r"\blorem\s+ipsum\b"
EXAMPLE_HOST = r"(?<![\w.-])(?:[a-z0-9-]+\.)*example\.[a-z]{2,24}(?![\w-])"
PATTERN = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in (
    ("bracketed", BRACKETED), ("marker", MARKER), ("lorem", LOREM), ("host", EXAMPLE_HOST))), re.IGNORECASE)


@dataclass(frozen=True)
class Placeholder:
    """One placeholder in a text.

    Attributes:
        text: the placeholder as written (``[Platzhalter]``, ``TODO``, ``www.example.com``).
        kind: ``bracketed``, ``marker``, ``lorem`` or ``host``.
        offset: its character offset in the text.
    """

    text: str
    kind: str
    offset: int

    def line_in(self, text: str) -> int:
        """The 0-based line of the placeholder within ``text``."""
        return text[: self.offset].count("\n")


def find_placeholders(text: str) -> List[Placeholder]:
    """Every placeholder in ``text``, in order.

    Args:
        text: an answer, a plain-language version, a title, a phrasing or a URL.

    Returns:
        The placeholders found (empty when there are none).
    """
    return [Placeholder(match.group(0), match.lastgroup or "", match.start())
            for match in PATTERN.finditer(text or "")]
