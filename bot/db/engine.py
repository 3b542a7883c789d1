"""Engines and sessions of the ticket database: SQLite by default, any SQLAlchemy URL (e.g. PostgreSQL) otherwise."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.db.upgrade import upgrade_to_head


def make_engine(url: str, migrate: bool = True) -> Engine:
    """Create an engine and, unless ``migrate`` is false, upgrade the database to the newest revision.

    Args:
        url: a SQLAlchemy URL such as ``sqlite:///tickets.sqlite3`` or
            ``postgresql://user@127.0.0.1:5432/auskunft``.
        migrate: run :func:`bot.db.upgrade.upgrade_to_head` (idempotent; also adopts a database made before
            Alembic). Alembic's own ``env.py`` passes false.
    """
    if url.startswith("sqlite"):
        # SQLAlchemy 1.4 gives file databases a NullPool: a new connection (and its PRAGMAs) for every
        # session, i.e. every request. A small pool keeps them (one thread per connection at a time).
        pooled = {} if ":memory:" in url or url.rstrip("/") == "sqlite:" else {"poolclass": QueuePool,
                                                                               "pool_size": 8, "max_overflow": 16}
        engine = create_engine(url, connect_args={"check_same_thread": False}, future=True, **pooled)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            _write_ahead_log(cursor)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
    else:
        engine = create_engine(url, pool_pre_ping=True, future=True)
    if migrate:
        upgrade_to_head(engine)
    return engine


def _write_ahead_log(cursor: Any, wait_s: float = 10.0) -> None:
    """Switch SQLite to WAL (readers never wait for the writer).

    A brand-new file that another process is switching at the same moment answers "database is locked" at once,
    without SQLite's busy wait; several processes starting together on a new database therefore retry here.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def session_factory(engine: Engine) -> "sessionmaker[Session]":
    """A session factory bound to ``engine`` (objects stay readable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)
