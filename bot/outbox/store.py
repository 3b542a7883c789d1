"""An outbox on any SQLAlchemy engine: items wait here until delivered; leased so that two workers never share one.

A worker *leases* due items with an atomic ``UPDATE ... WHERE id = ? AND NOT dead AND next_attempt_at <= now AND
(leased_until IS NULL OR leased_until < now)``; only the worker whose UPDATE changed the row has it. This works the
same on SQLite (writers are serialised) and PostgreSQL (a concurrent UPDATE re-checks its WHERE clause after the
first one commits). A worker that dies mid-delivery leaves a lease that simply expires. Outcomes (:meth:`Outbox.done`,
:meth:`Outbox.retry_later`, :meth:`Outbox.dead`) are recorded only while the lease is still the worker's own.

A delivered item stays as a receipt (key, when, the receiver's reference) without its payload, so that the same key
is never queued, and delivered, twice. The ticket database holds this table through Alembic (``0002``); any other
database (the action server's own SQLite file) gets it on first use.
"""

from __future__ import annotations

import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.outbox.policy import DEFAULT_POLICY, RetryPolicy

metadata = MetaData()
items = Table(
    "outbox_items", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(40), nullable=False),  # what the item is, e.g. "ticket"
    Column("key", String(200), nullable=False),  # idempotency: one item per (kind, key)
    Column("payload", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, index=True),
    Column("leased_until", DateTime(timezone=True), nullable=True),
    Column("leased_by", String(32), nullable=True),
    Column("last_error", Text, nullable=True),  # redacted by the caller; never credentials
    Column("dead", Boolean, nullable=False, default=False),  # a dead letter: kept for a person, never tried again
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),  # set: a receipt, nothing left to deliver
    Column("ref", String(200), nullable=True),  # the receiver's reference for the delivered item
    UniqueConstraint("kind", "key", name="uq_outbox_items_kind_key"),
)


_ready: "weakref.WeakSet[Engine]" = weakref.WeakSet()  # engines whose database has the table


def utcnow() -> datetime:
    """Timezone-aware now (UTC)."""
    return datetime.now(timezone.utc)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


@dataclass(frozen=True)
class Item:
    """One item: what to deliver, how often that already failed, and where it stands."""

    id: int
    kind: str
    key: str
    payload: Dict[str, Any]
    attempts: int
    next_attempt_at: Optional[datetime] = None
    leased_until: Optional[datetime] = None
    last_error: Optional[str] = None
    dead: bool = False
    delivered_at: Optional[datetime] = None
    ref: Optional[str] = None

    @property
    def status(self) -> str:
        """``pending``, ``delivered`` or ``dead`` (a dead letter)."""
        return "delivered" if self.delivered_at is not None else "dead" if self.dead else "pending"

    @classmethod
    def from_row(cls, row: Any) -> "Item":
        """An item from a row of :data:`items`."""
        def when(value: Optional[datetime]) -> Optional[datetime]:
            return None if value is None else _utc(value)

        return cls(int(row.id), str(row.kind), str(row.key), dict(row.payload or {}), int(row.attempts),
                   when(row.next_attempt_at), when(row.leased_until), row.last_error, bool(row.dead),
                   when(row.delivered_at), row.ref)


class Outbox:
    """Items of one ``kind`` waiting for delivery, in the ``outbox_items`` table of ``engine`` (created if missing).

    Args:
        engine: any SQLAlchemy engine (a local SQLite file, the ticket database).
        kind: which items this outbox handles (several kinds can share one table).
        policy: back-off and dead-letter threshold.
        clock: the current time (aware datetime).
        lease: how long a leased item is reserved; longer than one delivery can take.
    """

    def __init__(self, engine: Engine, kind: str, policy: RetryPolicy = DEFAULT_POLICY,
                 clock: Callable[[], datetime] = utcnow, lease: timedelta = timedelta(minutes=1)) -> None:
        self.engine = engine
        self.kind = kind
        self.policy = policy
        self.clock = clock
        self.lease_for = lease
        self.owner = uuid.uuid4().hex
        if engine not in _ready:  # once per engine, not per outbox (one is made per enqueued ticket)
            metadata.create_all(engine)
            _ready.add(engine)

    @classmethod
    def sqlite(cls, path: Path, kind: str, **options: Any) -> "Outbox":
        """An outbox in a SQLite file of its own (made with its folder if missing); ``options`` as for the class."""
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 10},
                               future=True)
        return cls(engine, kind, **options)

    def _now(self, now: Optional[datetime]) -> datetime:
        return _utc(now or self.clock())

    def put(self, key: str, payload: Dict[str, Any], error: Optional[str] = None,
            now: Optional[datetime] = None) -> bool:
        """Keep an item for delivery, once per key; False if the key was already there (nothing changed).

        Args:
            key: what makes the item unique, e.g. a case number.
            payload: JSON-serialisable content.
            error: the caller already tried once and failed with this: the item counts one failed attempt and
                waits for the policy's first pause.
            now: the current time (default: the clock).
        """
        now = self._now(now)
        attempts = 1 if error is not None else 0
        due = now + timedelta(seconds=self.policy.delay(1)) if error is not None else now
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(items).values(
                    kind=self.kind, key=key, payload=payload, attempts=attempts, next_attempt_at=due,
                    last_error=error[:1000] if error else None, dead=False, created_at=now))
        except IntegrityError:
            return False
        return True

    def _due(self, now: datetime) -> Any:
        return and_(items.c.kind == self.kind, items.c.dead.is_(False), items.c.delivered_at.is_(None),
                    items.c.next_attempt_at <= now,
                    or_(items.c.leased_until.is_(None), items.c.leased_until < now))

    def lease(self, n: int = 10, now: Optional[datetime] = None) -> List[Item]:
        """Claim up to ``n`` due items, oldest due first, for this outbox's owner until ``now + lease``."""
        now = self._now(now)
        with self.engine.connect() as connection:
            ids = list(connection.execute(select(items.c.id).where(self._due(now))
                                          .order_by(items.c.next_attempt_at, items.c.id).limit(n)).scalars())
        taken: List[Item] = []
        for row_id in ids:
            with self.engine.begin() as connection:
                claimed = connection.execute(update(items).where(items.c.id == row_id, self._due(now))
                                             .values(leased_until=now + self.lease_for, leased_by=self.owner))
                if claimed.rowcount != 1:
                    continue  # another worker was faster
                row = connection.execute(select(items).where(items.c.id == row_id)).one()
            taken.append(Item.from_row(row))
        return taken

    def _mine(self, item: Item) -> Any:
        return and_(items.c.id == item.id, items.c.leased_by == self.owner)

    def done(self, item: Item, ref: Optional[str] = None, now: Optional[datetime] = None) -> bool:
        """Record a delivery (payload dropped, a receipt kept); False if the lease had run out meanwhile.

        Args:
            item: the leased item.
            ref: the receiver's reference (e.g. a helpdesk ticket number).
            now: the current time (default: the clock).
        """
        return self._finish(item, attempts=item.attempts + 1, delivered_at=self._now(now), ref=ref, payload={},
                            last_error=None)

    def retry_later(self, item: Item, error: str, retry_after: Optional[float] = None,
                    now: Optional[datetime] = None) -> Optional[datetime]:
        """Count a failed attempt; schedule the next one, or make the item a dead letter once the policy gives up.

        Returns:
            When the next attempt is due; None if the item is now a dead letter or the lease was lost.
        """
        attempts = item.attempts + 1
        if self.policy.gives_up(attempts):
            self.dead(item, error, attempts=attempts)
            return None
        retry_at = self._now(now) + timedelta(seconds=self.policy.pause(attempts, retry_after))
        changed = self._finish(item, attempts=attempts, next_attempt_at=retry_at, last_error=error[:1000])
        return retry_at if changed else None

    def dead(self, item: Item, error: str, attempts: Optional[int] = None) -> bool:
        """Keep the item but never try it again (rejected, or too many attempts); False if the lease was lost."""
        return self._finish(item, attempts=item.attempts + 1 if attempts is None else attempts, dead=True,
                            last_error=error[:1000])

    def renew(self, item: Item, now: Optional[datetime] = None) -> bool:
        """Extend this owner's lease on ``item`` to ``now + lease``; False if it was no longer this owner's."""
        until = self._now(now) + self.lease_for
        with self.engine.begin() as connection:
            result = connection.execute(update(items).where(self._mine(item)).values(leased_until=until))
            return bool(result.rowcount == 1)

    def release(self, item: Item, now: Optional[datetime] = None) -> bool:
        """Give ``item`` back unchanged and due at once (no attempt counted); False if the lease had been lost."""
        return self._finish(item, next_attempt_at=self._now(now))

    def _finish(self, item: Item, **values: Any) -> bool:
        with self.engine.begin() as connection:
            result = connection.execute(update(items).where(self._mine(item))
                                        .values(leased_until=None, leased_by=None, **values))
            return bool(result.rowcount == 1)

    def waiting(self) -> List[Item]:
        """The items still to deliver, due or not, leased or not, oldest first (read only: nothing is claimed)."""
        return self._items(items.c.dead.is_(False), items.c.delivered_at.is_(None))

    def dead_letters(self) -> List[Item]:
        """The items given up on, oldest first (for a person to look at)."""
        return self._items(items.c.dead.is_(True))

    def get(self, key: str) -> Optional[Item]:
        """The item with ``key``, whatever its status; None if there is none."""
        found = self._items(items.c.key == key)
        return found[0] if found else None

    def _items(self, *where: Any) -> List[Item]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(items).where(items.c.kind == self.kind, *where).order_by(items.c.id))
            return [Item.from_row(row) for row in rows]

    def __len__(self) -> int:
        """Items still to deliver (dead letters and receipts not counted)."""
        with self.engine.connect() as connection:
            query = select(func.count()).select_from(items).where(items.c.kind == self.kind, items.c.dead.is_(False),
                                                                  items.c.delivered_at.is_(None))
            return int(connection.execute(query).scalar_one())
