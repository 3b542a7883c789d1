"""Small helpers for German wording in the staff pages."""

from __future__ import annotations


def count_noun(count: int, singular: str, plural: str) -> str:
    """``1 Ticket``, ``0 Tickets``, ``2 Tickets``: the number with the noun in the right number.

    Args:
        count: How many.
        singular: The noun for exactly one (``Ticket``).
        plural: The noun otherwise (``Tickets``).
    """
    return f"{count} {singular if count == 1 else plural}"
