"""Database engine and sessions; SQLite by default, any SQLAlchemy URL (e.g. PostgreSQL) otherwise."""

from __future__ import annotations

from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import bot.feedback.models  # noqa: F401  (registers the feedback table)
import bot.helpdesk.outbox  # noqa: F401  (registers the deliveries table)
import bot.inbox.models  # noqa: F401  (registers the agent tables)
from bot.tickets.migrate import add_missing_columns
from bot.tickets.models import Base


def make_engine(url: str) -> Engine:
    """Create an engine and the tables (idempotent).

    Args:
        url: a SQLAlchemy URL such as ``sqlite:///tickets.sqlite3`` or
            ``postgresql://user@127.0.0.1:5432/auskunft``.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, future=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
    else:
        engine = create_engine(url, pool_pre_ping=True, future=True)
    Base.metadata.create_all(engine)
    add_missing_columns(engine)
    return engine


def session_factory(engine: Engine) -> "sessionmaker[Session]":
    """A session factory bound to ``engine``."""
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


def sessions(factory: "sessionmaker[Session]") -> Iterator[Session]:
    """Yield one session per request and close it afterwards."""
    session = factory()
    try:
        yield session
    finally:
        session.close()
