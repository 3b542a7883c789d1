"""Retention (DSGVO): what is older than the configured number of days is deleted, nothing else.

- resolved tickets closed before the cut-off, with their replies, notes and history, and their
  helpdesk deliveries in the outbox (receipts and dead letters name the case number);
- dead letters in the outbox (rejected or given up deliveries of open tickets too) and the receipts of discarded
  ones, last tried or discarded before the cut-off (:func:`bot.tickets.dead_letters.purge_dead`);
- conversations (Rasa trackers) whose last message is older than the cut-off;
- "did this help?" votes older than the cut-off.
Open tickets are never deleted, however old: a question handed to a person stays until answered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.conversations.erase import TrackerEraser
from bot.feedback.models import Feedback
from bot.outbox.store import items as outbox_items
from bot.tickets.dead_letters import purge_dead
from bot.tickets.models import Ticket, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionReport:
    """What one run deleted."""

    tickets: int
    conversations: int
    votes: int
    dead_letters: int = 0


def purge(session: Session, days: int, eraser: Optional[TrackerEraser] = None,
          now: Optional[datetime] = None) -> RetentionReport:
    """Delete what is older than ``days`` days (see the module docstring)."""
    if days < 1:
        raise ValueError(f"retention days must be at least 1, got {days}")
    cutoff = (now or utcnow()) - timedelta(days=days)
    old = session.execute(
        select(Ticket).where(Ticket.status == "resolved", Ticket.closed_at.isnot(None), Ticket.closed_at < cutoff)
    ).scalars().all()
    for ticket in old:
        session.delete(ticket)  # replies and events cascade
    if old:
        session.execute(delete(outbox_items).where(outbox_items.c.kind.like("helpdesk:%"),
                                                   outbox_items.c.key.in_([t.case_number for t in old])))
    votes = session.execute(delete(Feedback).where(Feedback.created_at < cutoff)).rowcount
    dead = purge_dead(session, cutoff)
    session.commit()
    conversations = eraser.erase_inactive(cutoff.timestamp()) if eraser is not None else 0
    report = RetentionReport(tickets=len(old), conversations=conversations, votes=int(votes or 0), dead_letters=dead)
    if report.tickets or report.conversations or report.votes or report.dead_letters:
        log.info("retention (%d days): deleted %d ticket(s), %d conversation(s), %d vote(s), %d dead letter(s)",
                 days, report.tickets, report.conversations, report.votes, report.dead_letters)
    return report
