"""Figures for the inbox's analytics page: volume, time to first reply, backlog, handoff reasons.

Plain functions over a :class:`~sqlalchemy.orm.Session`; ``departments=None`` means all departments
(managers), otherwise only tickets of the listed departments count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Dict, List, Optional, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.tickets.models import Ticket, utcnow
from bot.tickets.scope import Scope, restrict

REASONS = ("low_confidence", "asked_for_human", "not_helpful", "choices_rejected", "repeated_miss", "no_candidates")
OPEN_STATUSES = ("new", "in_progress", "waiting")


@dataclass(frozen=True)
class DayCount:
    """Tickets created on one (local) day."""

    day: date
    count: int


@dataclass(frozen=True)
class ReplyTimes:
    """Time from a ticket's creation to its first reply, in seconds (None without replied tickets)."""

    replied: int
    median_seconds: Optional[float]
    p90_seconds: Optional[float]


@dataclass(frozen=True)
class Overview:
    """Everything the analytics page shows, for tickets created in the last ``days`` days."""

    days: int
    per_day: List[DayCount]
    reply_times: ReplyTimes
    backlog: Dict[str, int]
    reasons: Dict[str, int]
    out_of_hours: int
    total: int = field(default=0)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _scoped(query: Select, departments: Scope, since: Optional[datetime] = None) -> Select:
    query = restrict(query, departments)
    if since is not None:
        query = query.where(Ticket.created_at >= since.astimezone(timezone.utc))
    return query


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """The ``q``-quantile (0..1) with linear interpolation between the closest ranks (None for no values).

    ``percentile(v, 0.5)`` is the usual median; this is numpy's default ("linear") method.
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def window_start(days: int, now: Optional[datetime] = None, tz: tzinfo = timezone.utc) -> datetime:
    """Local midnight ``days - 1`` days before today: the window covers today and the days before."""
    local_now = (now or utcnow()).astimezone(tz)
    first = local_now.date() - timedelta(days=days - 1)
    return datetime(first.year, first.month, first.day, tzinfo=tz)


def tickets_per_day(session: Session, departments: Scope = None, days: int = 14,
                    now: Optional[datetime] = None, tz: tzinfo = timezone.utc) -> List[DayCount]:
    """Tickets created per local day for the last ``days`` days (oldest first, days without tickets as 0)."""
    start = window_start(days, now, tz)
    counts: Dict[date, int] = {(start + timedelta(days=i)).date(): 0 for i in range(days)}
    for (created,) in session.execute(_scoped(select(Ticket.created_at), departments, start)):
        day = _aware(created).astimezone(tz).date()
        if day in counts:
            counts[day] += 1
    return [DayCount(day, count) for day, count in sorted(counts.items())]


def first_reply_times(session: Session, departments: Scope = None,
                      since: Optional[datetime] = None) -> ReplyTimes:
    """Median and 90th percentile of created_at → first_reply_at over the replied tickets."""
    query = _scoped(select(Ticket.created_at, Ticket.first_reply_at).where(Ticket.first_reply_at.isnot(None)),
                    departments, since)
    seconds = [max(0.0, (_aware(first) - _aware(created)).total_seconds())
               for created, first in session.execute(query)]
    return ReplyTimes(len(seconds), percentile(seconds, 0.5), percentile(seconds, 0.9))


def backlog(session: Session, departments: Scope = None) -> Dict[str, int]:
    """Open tickets now, per status (new, in_progress, waiting)."""
    query = _scoped(select(Ticket.status, func.count(Ticket.id)).where(Ticket.status.in_(OPEN_STATUSES))
                    .group_by(Ticket.status), departments)
    found = {status: int(count) for status, count in session.execute(query)}
    return {status: found.get(status, 0) for status in OPEN_STATUSES}


def handoff_reasons(session: Session, departments: Scope = None,
                    since: Optional[datetime] = None) -> Dict[str, int]:
    """Tickets per handoff reason: the known reasons first (0 when absent), then any others found."""
    query = _scoped(select(Ticket.reason, func.count(Ticket.id)).group_by(Ticket.reason), departments, since)
    found = {reason: int(count) for reason, count in session.execute(query)}
    result = {reason: found.pop(reason, 0) for reason in REASONS}
    result.update(sorted(found.items()))
    return result


def out_of_hours_count(session: Session, departments: Scope = None,
                       since: Optional[datetime] = None) -> int:
    """Tickets created outside office hours."""
    query = _scoped(select(func.count(Ticket.id)).where(Ticket.out_of_hours.is_(True)), departments, since)
    return int(session.execute(query).scalar_one())


def overview(session: Session, departments: Scope = None, days: int = 14,
             now: Optional[datetime] = None, tz: tzinfo = timezone.utc) -> Overview:
    """All figures for tickets created in the last ``days`` local days (the backlog: all open tickets)."""
    since = window_start(days, now, tz)
    per_day = tickets_per_day(session, departments, days, now, tz)
    return Overview(days=days, per_day=per_day, reply_times=first_reply_times(session, departments, since),
                    backlog=backlog(session, departments), reasons=handoff_reasons(session, departments, since),
                    out_of_hours=out_of_hours_count(session, departments, since),
                    total=sum(d.count for d in per_day))
