"""The delivery outbox table (in the ticket database): one row per ticket and connector; see ``bot.helpdesk.outbox``."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint

from bot.db.base import Base, utcnow

STATUSES = ("pending", "delivered", "failed")


class Delivery(Base):  # type: ignore[misc,valid-type]
    """One ticket to be delivered to one connector (``UNIQUE(case_number, connector)``)."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("case_number", "connector", name="uq_deliveries_case_connector"),)

    id = Column(Integer, primary_key=True)
    case_number = Column(String(20), ForeignKey("tickets.case_number", ondelete="CASCADE"), nullable=False,
                         index=True)
    connector = Column(String(40), nullable=False)
    status = Column(String(12), nullable=False, default="pending", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    claimed_until = Column(DateTime(timezone=True), nullable=True)
    claimed_by = Column(String(32), nullable=True)
    last_error = Column(Text, nullable=True)  # error class, HTTP status and a redacted excerpt; never credentials
    external_ref = Column(String(200), nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    delivered_at = Column(DateTime(timezone=True), nullable=True)
