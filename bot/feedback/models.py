"""The feedback table (in the ticket database)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Integer, String

from bot.db.base import Base, utcnow


class Feedback(Base):  # type: ignore[misc,valid-type]
    """One citizen's vote on one answer."""

    __tablename__ = "feedback"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    faq_id = Column(String(80), nullable=False, index=True)
    helpful = Column(Boolean, nullable=False)
    language = Column(String(2), nullable=False)
    index_version = Column(String(40), nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
