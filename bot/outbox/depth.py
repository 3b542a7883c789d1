"""How much waits in the outboxes of one database, per kind: for the metrics (:mod:`bot.metrics`)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, List

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Engine

from bot.metrics import OutboxDepth
from bot.outbox.store import items, utcnow


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def outbox_depths(engine: Engine, clock: Callable[[], datetime] = utcnow) -> List[OutboxDepth]:
    """Pending items, dead letters and the age of the oldest pending item, per kind (one query; no rows, no kinds).

    Args:
        engine: the database holding the ``outbox_items`` table (an empty list if it has none yet).
        clock: the current time (aware datetime).

    Returns:
        One :class:`~bot.metrics.OutboxDepth` per kind that has items.
    """
    pending = and_(items.c.delivered_at.is_(None), items.c.dead.is_(False))
    query = (select(items.c.kind,
                    func.sum(case((pending, 1), else_=0)),
                    func.sum(case((and_(items.c.delivered_at.is_(None), items.c.dead.is_(True)), 1), else_=0)),
                    func.min(case((pending, items.c.created_at), else_=None)))
             .group_by(items.c.kind))
    with engine.connect() as connection:
        if not engine.dialect.has_table(connection, items.name):
            return []
        rows = connection.execute(query).all()
    now = _aware(clock())
    result = []
    for kind, waiting, dead, oldest in rows:
        age = (now - _aware(oldest)).total_seconds() if oldest is not None else 0.0
        result.append(OutboxDepth(str(kind), int(waiting or 0), int(dead or 0), max(0.0, age)))
    return result
