"""The schema of revision ``0001``: every table as the last release before Alembic created it. FROZEN: never edit.

A change to the schema is a new revision in ``versions/``; this module must keep describing revision ``0001``, which
both creates fresh databases (``versions/0001_baseline.py``) and is what ``bot.db.legacy`` brings older databases to.
The column defaults live in the models (Python-side), so the tables here carry none.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

REVISION = "0001"
metadata = MetaData()


def _at(name: str, nullable: bool = False, index: bool = False) -> Column:
    return Column(name, DateTime(timezone=True), nullable=nullable, index=index)


Table(
    "tickets", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_number", String(20), unique=True, nullable=False, index=True),
    Column("conversation_id", String(128), nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("language", String(2), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("question", Text, nullable=False),
    Column("candidates", JSON, nullable=False),
    Column("transcript", JSON, nullable=False),
    Column("consent", Boolean, nullable=False),
    Column("email", String(254), nullable=True),
    Column("index_version", String(40), nullable=True),
    Column("agency", String(40), nullable=True, index=True),
    _at("created_at"),
    _at("updated_at"),
    _at("closed_at", nullable=True),
    Column("department", String(60), nullable=True, index=True),
    Column("assignee", String(80), nullable=True, index=True),
    Column("holds_conversation", Boolean, nullable=True),
    _at("first_reply_at", nullable=True),
    Column("out_of_hours", Boolean, nullable=True),
)

Table(
    "replies", metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("author", String(120), nullable=False),
    Column("text", Text, nullable=False),
    _at("created_at"),
)

Table(
    "ticket_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True),
    _at("at", index=True),
    Column("actor", String(80), nullable=False),
    Column("kind", String(30), nullable=False, index=True),
    Column("text", Text, nullable=True),
    Column("data", JSON, nullable=True),
)

Table(
    "agents", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(40), unique=True, nullable=False, index=True),
    Column("display_name", String(120), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("departments", JSON, nullable=False),
    Column("is_manager", Boolean, nullable=False),
    Column("is_editor", Boolean, nullable=True),
    Column("active", Boolean, nullable=False),
    _at("created_at"),
)

Table(
    "agent_sessions", metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), unique=True, nullable=False, index=True),
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    _at("created_at"),
    _at("expires_at", index=True),
)

Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(128), nullable=False, index=True),
    Column("faq_id", String(80), nullable=False, index=True),
    Column("helpful", Boolean, nullable=False),
    Column("language", String(2), nullable=False),
    Column("index_version", String(40), nullable=True),
    _at("created_at"),
)

Table(
    "deliveries", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_number", String(20), ForeignKey("tickets.case_number", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("connector", String(40), nullable=False),
    Column("status", String(12), nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    _at("next_attempt_at", index=True),
    _at("claimed_until", nullable=True),
    Column("claimed_by", String(32), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("external_ref", String(200), nullable=True),
    _at("created_at"),
    _at("delivered_at", nullable=True),
    UniqueConstraint("case_number", "connector", name="uq_deliveries_case_connector"),
)
