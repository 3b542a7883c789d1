"""Agent tables (in the ticket database): staff who answer tickets, and their login sessions."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Integer, String, Text
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
    # Added by revision 0006. ``agencies``: the agency keys whose tickets and kb the account may see; NULL (older
    # rows, single-agency deployments) = every agency.
    agencies = Column(JSON, nullable=True)
    totp_secret = Column(String(64), nullable=True)  # base32 TOTP secret once a second factor is confirmed
    totp_last_step = Column(Integer, nullable=True)  # the last accepted TOTP time step (a code works once)
    external_subject = Column(String(255), nullable=True, unique=True)  # OpenID Connect "issuer sub"; NULL = local


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


class ApiToken(Base):  # type: ignore[misc,valid-type]
    """A named API token with scopes (revision 0006): only its SHA-256 is stored, the token is shown once.

    ``scopes`` lists what it may do (for example ``tickets:create``, ``feedback:create``, ``tickets:read``,
    ``tickets:write``); ``agencies`` limits it to some agencies (NULL = all). Rotation creates a new token and
    gives the old one an ``expires_at``; ``revoked_at`` ends it at once.
    """

    __tablename__ = "api_tokens"

    id = Column(Integer, primary_key=True)
    name = Column(String(80), unique=True, nullable=False)
    token_hash = Column(String(64), unique=True, nullable=False, index=True)
    scopes = Column(JSON, nullable=False, default=list)
    agencies = Column(JSON, nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    created_by = Column(String(80), nullable=False)
    expires_at = Column(DateTime(timezone=True), nullable=True)
    revoked_at = Column(DateTime(timezone=True), nullable=True)
    last_used_at = Column(DateTime(timezone=True), nullable=True)


class CannedReply(Base):  # type: ignore[misc,valid-type]
    """A prepared reply text for one department (revision 0006), kept by managers, inserted by agents."""

    __tablename__ = "canned_replies"

    id = Column(Integer, primary_key=True)
    department = Column(String(60), nullable=False, index=True)
    title = Column(String(120), nullable=False)
    body = Column(Text, nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)
    updated_by = Column(String(80), nullable=False)


class KbDraft(Base):  # type: ignore[misc,valid-type]
    """An editor's change to a kb file waiting for a second editor (revision 0006; the review queue).

    ``path`` is relative to the agency's kb folder; ``content`` the whole proposed file; ``base_sha`` the SHA-256
    of the file the change was made against (empty for a new file), so approval can detect a conflict.
    ``status`` is ``draft``, ``approved``, ``rejected`` or ``withdrawn``.
    """

    __tablename__ = "kb_drafts"

    id = Column(Integer, primary_key=True)
    agency = Column(String(40), nullable=True, index=True)
    path = Column(String(400), nullable=False)
    content = Column(Text, nullable=False)
    base_sha = Column(String(64), nullable=False, default="")
    author = Column(String(80), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    status = Column(String(16), nullable=False, default="draft", index=True)
    reviewer = Column(String(80), nullable=True)
    reviewed_at = Column(DateTime(timezone=True), nullable=True)
    note = Column(Text, nullable=True)
