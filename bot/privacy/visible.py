"""Text as a person reads it: invisible characters left out, compatibility forms folded (NFKC).

Bidi overrides and isolates (U+202A-202E, U+2066-2069), zero-width characters, the soft hyphen and other Unicode
format (Cf) and control (Cc) characters can hide or reorder text and split an e-mail address or a phone number
for a pattern; fullwidth forms (``max＠beispiel．de``, ``０１７１``) look like the ASCII ones but are other
characters. :func:`strip_hidden` and NFKC give the text the detectors of :mod:`bot.privacy.redact` must see;
:func:`reading_view` does so while remembering where each character came from, so that a found span can be
replaced in the original text and everything else stays as it was written.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import List, Optional, Tuple

KEPT = frozenset("\t\n")
"""Control characters that are part of ordinary text."""
_PLAIN = re.compile(r"[\t\n\x20-\x7e]*")


def is_hidden(char: str) -> bool:
    """Whether ``char`` is a control or format character (Unicode Cc, Cf) other than tab and newline."""
    return char not in KEPT and unicodedata.category(char) in ("Cc", "Cf")


def strip_hidden(text: str) -> str:
    """``text`` without control and format characters (Unicode Cc, Cf) except tab and newline."""
    return "".join(char for char in text if not is_hidden(char))


@dataclass(frozen=True)
class View:
    """``text``: what a person reads of an original; ``origin[i]``: the original index of ``text[i]``.

    ``origin`` is None when the view is the original itself (plain ASCII, or nothing to fold or leave out).
    """

    text: str
    origin: Optional[Tuple[int, ...]] = None

    def original(self, start: int, end: int) -> Tuple[int, int]:
        """The original range that ``text[start:end]`` (not empty) was read from."""
        if self.origin is None:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1


def reading_view(text: str) -> View:
    """``text`` with hidden characters left out and each character NFKC-folded, with the way back.

    Characters are folded one by one (a fullwidth ``＠`` becomes ``@``, ``ﬁ`` becomes ``fi``); combining
    sequences stay as they are, which the detectors (ASCII letters, digits, punctuation) do not mind.
    """
    if _PLAIN.fullmatch(text) or (unicodedata.is_normalized("NFKC", text)
                                  and not any(is_hidden(char) for char in text)):
        return View(text)
    parts: List[str] = []
    origin: List[int] = []
    for index, char in enumerate(text):
        if is_hidden(char):
            continue
        folded = unicodedata.normalize("NFKC", char)
        parts.append(folded)
        origin.extend([index] * len(folded))
    return View("".join(parts), tuple(origin))
