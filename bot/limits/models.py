"""The SQL limiter's tables: one row per counted event, and short-lived notes (see :mod:`bot.limits.sql`)."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String

from bot.db.base import Base


class LimitHit(Base):
    """One counted event of a key (kept until it leaves its window)."""

    __tablename__ = "limit_hits"
    __table_args__ = (Index("ix_limit_hits_key_at", "key", "at"),)

    id = Column(Integer, primary_key=True)
    key = Column(String(120), nullable=False)
    at = Column(Float, nullable=False, doc="seconds since the epoch")
    expires_at = Column(Float, nullable=False, doc="when the event leaves its window (purged after)")


class LimitNote(Base):
    """A value kept for a while, e.g. the (pseudonymised) address a conversation's messages came from."""

    __tablename__ = "limit_notes"

    key = Column(String(120), primary_key=True)
    value = Column(String(200), nullable=False)
    expires_at = Column(Float, nullable=False, doc="seconds since the epoch")
