"""Agent tables (in the ticket database): staff who answer tickets, and their login sessions."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from bot.db.base import Base, utcnow


class Agent(Base):  # type: ignore[misc,valid-type]
    """A member of staff who answers tickets in the inbox.

    ``departments`` lists the department keys whose queues the agent sees; a manager
    (``is_manager``) sees every department and the analytics of all of them. An editor
    (``is_editor``, also managers) sees the editor pages under ``/inbox/editor``; an editor
    may have no departments at all.
    """

    __tablename__ = "agents"

    id = Column(Integer, primary_key=True)
    username = Column(String(40), unique=True, nullable=False, index=True)  # lowercase, [a-z0-9._-]{3,40}
    display_name = Column(String(120), nullable=False)
    password_hash = Column(String(255), nullable=False)  # see bot.staff.passwords
    departments = Column(JSON, nullable=False, default=list)
    is_manager = Column(Boolean, nullable=False, default=False)
    is_editor = Column(Boolean, nullable=True, default=False)  # content editor; NULL (older rows) = no
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class AgentSession(Base):  # type: ignore[misc,valid-type]
    """One login: the cookie holds a random token, the table only its SHA-256 (a leaked table logs nobody in)."""

    __tablename__ = "agent_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), unique=True, nullable=False, index=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = Column(DateTime(timezone=True), nullable=False, index=True)

    agent = relationship("Agent", lazy="joined")


class StaffAudit(Base):  # type: ignore[misc,valid-type]
    """One change to a staff account: who did what to whose account, and when (never a password).

    ``actor`` is the user name of the manager who acted in the inbox, or ``cli:<system user>`` for the
    command line; ``target`` is the changed account's user name (kept after the account is removed);
    ``detail`` names what changed (departments, roles, which fields), never the password or its hash.
    """

    __tablename__ = "staff_audit"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    actor = Column(String(80), nullable=False)
    action = Column(String(40), nullable=False)
    target = Column(String(40), nullable=False, index=True)
    detail = Column(JSON, nullable=True)
