"""Entries past their review date are never given as answers (when the agency asks for it).

A step of :func:`bot.decision.turn.decide_turn`, so every caller (bot, preview, eval, kb diff)
gets the same decision.
"""

from __future__ import annotations

from datetime import date
from typing import Optional, Protocol

from bot.decision.policy import ANSWER, CLARIFY, HANDOFF, Decision
from bot.retrieval.index import EntryRecord


class EntryLookup(Protocol):
    """The part of :class:`bot.retrieval.index.FaqIndex` this module reads."""

    def entry(self, faq_id: str) -> Optional[EntryRecord]:
        """The entry with this id, if present."""


class AnyEntry:
    """An entry lookup without an index (baselines, calibration probes): every id exists, none is overdue."""

    def entry(self, faq_id: str) -> Optional[EntryRecord]:
        """A stand-in record that is never overdue."""
        return _PRESENT  # type: ignore[return-value]


class _Present:
    def overdue(self, today: object) -> bool:
        return False


_PRESENT = _Present()


def withdraw_overdue(decision: Decision, index: EntryLookup, enabled: bool, today: Optional[date] = None) -> Decision:
    """With ``enabled``, entries past their review date are never given: such questions go to a person.

    Args:
        decision: what the FAQ policy chose.
        index: the index the decision was made on.
        enabled: the agency's ``withdraw_overdue`` setting; False returns ``decision`` unchanged.
        today: the reference date (default: today).

    Returns:
        The decision, a clarify step without overdue choices, or a handoff with reason ``withdrawn``.
    """
    if not enabled:
        return decision
    today = today or date.today()
    if decision.action == ANSWER and decision.faq_id:
        if overdue(index, decision.faq_id, today):
            return Decision(HANDOFF, "withdrawn", decision.confidence, decision.faq_id)
    if decision.action == CLARIFY:
        fresh = tuple(c for c in decision.choices if not overdue(index, c.faq_id, today))
        if not fresh:
            return Decision(HANDOFF, "withdrawn", decision.confidence)
        return Decision(CLARIFY, decision.reason, decision.confidence, decision.faq_id, fresh)
    return decision


def overdue(index: EntryLookup, faq_id: str, today: date) -> bool:
    """Whether the entry ``faq_id`` exists and its review date has passed."""
    entry = index.entry(faq_id)
    return entry is not None and entry.overdue(today)
