"""Entries past their review date: reported by 'kb check', and optionally never given as answers."""

from __future__ import annotations

from datetime import date
from typing import Dict, Optional

from bot.decision import ANSWER, CLARIFY, HANDOFF, Decision
from bot.decision.lifecycle import withdraw_overdue
from bot.retrieval.index import Candidate, EntryRecord

TODAY = date(2026, 11, 23)


class Entries:
    """The part of FaqIndex that withdraw_overdue reads."""

    def __init__(self, **review_by: Optional[str]) -> None:
        self.records: Dict[str, EntryRecord] = {
            faq_id: EntryRecord(faq_id, faq_id.title(), "de", "https://x.example", "Bürgeramt", [], "…", [faq_id],
                                review_by=when)
            for faq_id, when in review_by.items()}

    def entry(self, faq_id: str) -> Optional[EntryRecord]:
        return self.records.get(faq_id)


def candidate(faq_id: str, score: float) -> Candidate:
    return Candidate(faq_id, score, faq_id.title(), faq_id, "de", "")


ENTRIES = Entries(alt="2026-01-31", frisch="2027-05-31", ohne=None)


def test_an_overdue_answer_becomes_a_handoff_only_when_enabled() -> None:
    answer = Decision(ANSWER, "confident", 0.8, "alt")
    assert withdraw_overdue(answer, ENTRIES, enabled=False, today=TODAY) is answer  # type: ignore[arg-type]
    withdrawn = withdraw_overdue(answer, ENTRIES, enabled=True, today=TODAY)  # type: ignore[arg-type]
    assert (withdrawn.action, withdrawn.reason) == (HANDOFF, "withdrawn")
    for fresh in ("frisch", "ohne"):
        kept = Decision(ANSWER, "confident", 0.8, fresh)
        assert withdraw_overdue(kept, ENTRIES, enabled=True, today=TODAY) is kept  # type: ignore[arg-type]


def test_overdue_choices_are_dropped_and_none_left_means_handoff() -> None:
    clarify = Decision(CLARIFY, "uncertain", 0.3, None, (candidate("alt", 0.3), candidate("frisch", 0.28)))
    kept = withdraw_overdue(clarify, ENTRIES, enabled=True, today=TODAY)  # type: ignore[arg-type]
    assert kept.action == CLARIFY and [c.faq_id for c in kept.choices] == ["frisch"]
    only_old = Decision(CLARIFY, "uncertain", 0.3, None, (candidate("alt", 0.3),))
    assert withdraw_overdue(only_old, ENTRIES, enabled=True, today=TODAY).action == HANDOFF  # type: ignore[arg-type]
