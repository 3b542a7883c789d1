"""Redaction placeholders in logged questions: what of a question is left to group into missing topics.

Every logged text went through :func:`bot.privacy.redact.redact`, which puts ``[E-MAIL]``, ``[TELEFON]``, ... (the
labels of :data:`bot.privacy.redact.PRIORITY`) where personal data was. A placeholder says nothing about what the
citizen needs, so it is stripped before questions are grouped by meaning, and a message that is (mostly) personal
data is no question at all.
"""

from __future__ import annotations

import re
from typing import Optional

from bot.privacy.redact import PRIORITY

PLACEHOLDER = re.compile(r"\[(?:" + "|".join(re.escape(label) for label in PRIORITY) + r")\]")
_WORD = re.compile(r"\w{2,}")


def topic_text(text: str) -> Optional[str]:
    """The text without redaction placeholders, or None when it is no topic.

    Args:
        text: a redacted question.

    Returns:
        The text with every placeholder removed and blanks collapsed; None when no word (two letters or digits at
        least) is left or placeholders are a third of the words and placeholders or more: "[E-MAIL]" or "Meine
        Nummer: [TELEFON]" is personal data the citizen sent, not a topic.
    """
    placeholders = len(PLACEHOLDER.findall(text))
    rest = " ".join(PLACEHOLDER.sub(" ", text).split())
    words = len(_WORD.findall(rest))
    return rest if words > 2 * placeholders else None
