"""The SQL limiter store: the project's database (SQLite or PostgreSQL), shared by every process that uses it.

Each :meth:`SqlLimiter.hit` is one short transaction that is serialised per key, so that concurrent processes
never let more than ``limit`` events through: PostgreSQL takes a transaction-level advisory lock on the key,
SQLite's first write (the clean-up ``DELETE``) takes the database's write lock.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Callable, Optional

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.limits.base import ALLOWED, Decision, check_limit
from bot.limits.models import LimitHit, LimitNote

PURGE_EVERY = 500
"""Every this many hits, events and notes of every key that have expired are deleted."""


def _lock_id(key: str) -> int:
    """A signed 64-bit number for ``pg_advisory_xact_lock`` from the key."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


class SqlLimiter:
    """Sliding-window counters and notes in the tables ``limit_hits`` and ``limit_notes``.

    Args:
        engine: the project's database, migrated (Alembic revision 0004 makes the tables).
        clock: seconds since the epoch (processes on several machines share it; tests pass their own).
    """

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._clock = clock
        self._postgres = engine.dialect.name == "postgresql"
        self._hits = 0
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window: float) -> Decision:
        """Count one event for ``key`` unless ``limit`` events fell in the last ``window`` seconds."""
        check_limit(limit, window)
        now = self._clock()
        table = LimitHit.__table__
        with self.engine.begin() as connection:
            if self._postgres:
                connection.execute(select(func.pg_advisory_xact_lock(_lock_id(key))))
            connection.execute(delete(table).where(table.c.key == key, table.c.at <= now - window))
            recent = connection.execute(select(table.c.at).where(table.c.key == key)
                                        .order_by(table.c.at.desc()).limit(limit)).scalars().all()
            if len(recent) >= limit:
                return Decision(False, max(0.0, recent[-1] + window - now))
            connection.execute(insert(table).values(key=key, at=now, expires_at=now + window))
            self._maybe_purge(connection, now)
        return ALLOWED

    def note(self, key: str, value: str, ttl: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds (replacing an earlier note)."""
        table = LimitNote.__table__
        try:
            with self.engine.begin() as connection:
                connection.execute(delete(table).where(table.c.key == key))
                connection.execute(insert(table).values(key=key, value=value, expires_at=self._clock() + ttl))
        except IntegrityError:  # another process noted the same key at the same moment: its note stands
            pass

    def recall(self, key: str) -> Optional[str]:
        """The value noted under ``key`` unless it expired."""
        table = LimitNote.__table__
        with self.engine.connect() as connection:
            value = connection.execute(select(table.c.value).where(
                table.c.key == key, table.c.expires_at > self._clock())).scalar()
        return None if value is None else str(value)

    def _maybe_purge(self, connection: Connection, now: float) -> None:
        """Now and then, delete what expired under every key (idle keys are otherwise never cleaned)."""
        with self._lock:
            self._hits += 1
            due = self._hits % PURGE_EVERY == 0
        if due:
            connection.execute(delete(LimitHit.__table__).where(LimitHit.__table__.c.expires_at <= now))
            connection.execute(delete(LimitNote.__table__).where(LimitNote.__table__.c.expires_at <= now))
