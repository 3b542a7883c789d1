"""Ticket tables."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()
STATUSES = ("new", "in_progress", "waiting", "resolved")


def utcnow() -> datetime:
    """Timezone-aware now (UTC)."""
    return datetime.now(timezone.utc)


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
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)
    closed_at = Column(DateTime(timezone=True), nullable=True)

    replies = relationship("Reply", order_by="Reply.id", cascade="all, delete-orphan", lazy="selectin")


class Reply(Base):  # type: ignore[misc,valid-type]
    """An agent's answer to a ticket."""

    __tablename__ = "replies"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(String(120), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
