"""Small helpers for German wording in the staff pages."""

from __future__ import annotations

from typing import Optional


def count_noun(count: int, singular: str, plural: str) -> str:
    """``1 Ticket``, ``0 Tickets``, ``2 Tickets``: the number with the noun in the right number.

    Args:
        count: How many.
        singular: The noun for exactly one (``Ticket``).
        plural: The noun otherwise (``Tickets``).
    """
    return f"{count} {singular if count == 1 else plural}"


def duration(seconds: Optional[float]) -> str:
    """``25 Min.`` or ``1 Std. 5 Min.`` (rounded to the minute); ``–`` for no value."""
    if seconds is None:
        return "–"
    minutes = int(round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} Std. {minutes} Min." if hours else f"{minutes} Min."
