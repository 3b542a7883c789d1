"""Ticket tables."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from bot.db.base import Base, utcnow

__all__ = ["Base", "EVENT_KINDS", "STATUSES", "Reply", "Ticket", "TicketEvent", "utcnow"]
STATUSES = ("new", "in_progress", "waiting", "resolved")


class Ticket(Base):  # type: ignore[misc,valid-type]
    """An escalated conversation."""

    __tablename__ = "tickets"

    id = Column(Integer, primary_key=True)
    case_number = Column(String(20), unique=True, nullable=False, index=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    status = Column(String(20), nullable=False, default="new", index=True)
    language = Column(String(2), nullable=False)
    reason = Column(String(40), nullable=False)
    question = Column(Text, nullable=False)
    candidates = Column(JSON, nullable=False, default=list)
    transcript = Column(JSON, nullable=False, default=list)
    consent = Column(Boolean, nullable=False)
    email = Column(String(254), nullable=True)
    index_version = Column(String(40), nullable=True)
    agency = Column(String(40), nullable=True, index=True)  # the widget's agency (several agencies, one deployment)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)
    closed_at = Column(DateTime(timezone=True), nullable=True)
    # Routing and ownership (added by the second release; databases of the first are adopted by bot.db.legacy).
    department = Column(String(60), nullable=True, index=True)
    assignee = Column(String(80), nullable=True, index=True)
    holds_conversation = Column(Boolean, nullable=True, default=False)  # a person answers; the bot is silent
    first_reply_at = Column(DateTime(timezone=True), nullable=True)
    out_of_hours = Column(Boolean, nullable=True, default=False)

    replies = relationship("Reply", order_by="Reply.id", cascade="all, delete-orphan", lazy="selectin")
    events = relationship("TicketEvent", order_by="TicketEvent.id", cascade="all, delete-orphan", lazy="selectin")

    @property
    def other_needs(self) -> list:
        """Earlier questions of the conversation the bot did not resolve either (kept in the 'created' event)."""
        created = next((e for e in self.events if e.kind == "created"), None)
        data = created.data if created is not None and isinstance(created.data, dict) else {}
        return [str(q) for q in data.get("other_needs") or []]


class Reply(Base):  # type: ignore[misc,valid-type]
    """An agent's answer to a ticket."""

    __tablename__ = "replies"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(String(120), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


EVENT_KINDS = ("created", "status", "assigned", "transferred", "note", "reply", "read", "handed_back",
               "citizen_message", "notified", "notify_failed", "delivered", "faq_linked")


class TicketEvent(Base):  # type: ignore[misc,valid-type]
    """Everything that happened to a ticket: its history, internal notes and the audit log of reads."""

    __tablename__ = "ticket_events"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    actor = Column(String(80), nullable=False)  # an agent's user name, "citizen", "bot" or "system"
    kind = Column(String(30), nullable=False, index=True)
    text = Column(Text, nullable=True)
    data = Column(JSON, nullable=True)
