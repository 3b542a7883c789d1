"""The table of agent-linked questions: which FAQ entry answers a ticket, and the editors' decision on it."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text

from bot.db.base import Base, utcnow

PENDING, ACCEPTED, REJECTED, NO_ENTRY = "pending", "accepted", "rejected", "no_entry"
SUGGESTION_STATUSES = (PENDING, ACCEPTED, REJECTED, NO_ENTRY)


class PhrasingSuggestion(Base):  # type: ignore[misc,valid-type]
    """One ticket's link to the FAQ entry that answers it (``faq_id`` None: no entry fits).

    A linked ticket's question (redacted when the ticket was stored) is a pending phrasing for the entry until
    an editor accepts it (the kb file gains it) or rejects it. Deleting the ticket (retention, erasure) deletes
    its link too.
    """

    __tablename__ = "phrasing_suggestions"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, unique=True)
    agency = Column(String(40), nullable=True, index=True)  # the ticket's agency (None: the default one)
    faq_id = Column(String(80), nullable=True)
    question = Column(Text, nullable=False)
    status = Column(String(20), nullable=False, index=True)
    linked_by = Column(String(80), nullable=False)
    linked_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    decided_by = Column(String(80), nullable=True)
    decided_at = Column(DateTime(timezone=True), nullable=True)
    outcome = Column(Text, nullable=True)  # the commit, "already there", or why the last accept failed
