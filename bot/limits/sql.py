"""The SQL limiter store: the project's database (SQLite or PostgreSQL), shared by every process that uses it.

Each :meth:`SqlLimiter.hit` is one short transaction that is serialised per key, so that concurrent processes
never let more than ``limit`` events through: PostgreSQL takes a transaction-level advisory lock on the key,
SQLite's transaction begins ``IMMEDIATE`` (takes the database's write lock, waiting for it if need be).
"""

from __future__ import annotations

import hashlib
import threading
import time
from contextlib import nullcontext
from typing import Callable, ContextManager, Optional, Sequence

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.limits.base import ALLOWED, Budget, Decision, Note, check_limit
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
        self._sqlite = engine.dialect.name == "sqlite"
        # SQLite has one writer at a time and its busy wait is not fair: the threads of a process queue here first
        self._serial: ContextManager[object] = threading.Lock() if self._sqlite else nullcontext()
        self._hits = 0
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window: float) -> Decision:
        """Count one event for ``key`` unless ``limit`` events fell in the last ``window`` seconds."""
        return self.hit_all([Budget(key, limit, window)])

    def hit_all(self, budgets: Sequence[Budget], note: Optional[Note] = None) -> Decision:
        """Count one event under every key if each is within its budget, else under none; then keep ``note``.

        One transaction: the keys are locked in a fixed order (no deadlock between processes), checked, counted.
        """
        for budget in budgets:
            check_limit(budget.limit, budget.window)
        now = self._clock()
        table = LimitHit.__table__
        with self._serial:
            with self.engine.begin() as connection:
                if self._sqlite:  # the write lock first: a deferred one would fail at once under WAL when another won
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                elif self._postgres:
                    keys = {budget.key for budget in budgets} | ({note.key} if note is not None else set())
                    for lock in sorted(_lock_id(key) for key in keys):
                        connection.execute(select(func.pg_advisory_xact_lock(lock)))
                for key, limit, window in budgets:
                    connection.execute(delete(table).where(table.c.key == key, table.c.at <= now - window))
                    counted = connection.execute(select(func.count()).select_from(table)
                                                 .where(table.c.key == key)).scalar()
                    if counted >= limit:  # the window frees up when the limit-th newest event leaves it
                        freed = connection.execute(select(table.c.at).where(table.c.key == key)
                                                   .order_by(table.c.at.desc()).offset(limit - 1).limit(1)).scalar()
                        return Decision(False, max(0.0, float(freed) + window - now))
                connection.execute(insert(table), [{"key": b.key, "at": now, "expires_at": now + b.window}
                                                   for b in budgets])
                if note is not None:
                    self._write_note(connection, note)
                self._maybe_purge(connection, now)
        return ALLOWED

    def note(self, key: str, value: str, ttl: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds (replacing an earlier note)."""
        try:
            with self.engine.begin() as connection:
                if self._sqlite:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                self._write_note(connection, Note(key, value, ttl))
        except IntegrityError:  # another process noted the same key at the same moment: its note stands
            pass

    def _write_note(self, connection: Connection, note: Note) -> None:
        table = LimitNote.__table__
        connection.execute(delete(table).where(table.c.key == note.key))
        connection.execute(insert(table).values(key=note.key, value=note.value, expires_at=self._clock() + note.ttl))

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
