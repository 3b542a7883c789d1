"""Managers' figures per department, per agent and per week: workload, reply and resolution times, handoff reasons.

Plain functions over a :class:`~sqlalchemy.orm.Session`, scoped like :mod:`bot.tickets.analytics`
(``departments=None``: all departments). Per agent means the ticket's current assignee (``None``: nobody).
Workload counts the tickets open now (new or waiting), in progress now, and resolved in the period; first-reply
times cover tickets created in the period, resolution times tickets resolved (closed) in the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Dict, List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.tickets.analytics import REASONS, _aware, percentile, window_start
from bot.tickets.models import Ticket, utcnow
from bot.tickets.scope import Scope, restrict

OPEN_NOW = ("new", "waiting")


@dataclass(frozen=True)
class GroupFigures:
    """Workload and times of one department or agent (``key`` None: no department / not assigned)."""

    key: Optional[str]
    open: int = 0
    in_progress: int = 0
    resolved: int = 0
    replied: int = 0
    reply_median: Optional[float] = None
    reply_p90: Optional[float] = None
    resolution_median: Optional[float] = None
    resolution_p90: Optional[float] = None


@dataclass(frozen=True)
class WeekReasons:
    """Tickets per handoff reason created in one week (Monday to Sunday, cut to the period)."""

    first: date
    last: date
    iso_week: int
    reasons: Dict[str, int]

    @property
    def total(self) -> int:
        """All tickets of the week."""
        return sum(self.reasons.values())


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (_aware(end) - _aware(start)).total_seconds())


def _group(session: Session, column: str, departments: Scope, since: datetime,
           only: Optional[Sequence[Optional[str]]] = None) -> List[GroupFigures]:
    """Figures grouped by the Ticket column ``column`` ("department" or "assignee")."""
    query = select(getattr(Ticket, column), Ticket.status, Ticket.created_at, Ticket.first_reply_at, Ticket.closed_at)
    query = restrict(query, departments)
    counts: Dict[Optional[str], Dict[str, int]] = {}
    replies: Dict[Optional[str], List[float]] = {}
    resolutions: Dict[Optional[str], List[float]] = {}
    since_utc = since.astimezone(timezone.utc)
    for key, status, created, first_reply, closed in session.execute(query):
        if only is not None and key not in only:
            continue
        row = counts.setdefault(key, {"open": 0, "in_progress": 0, "resolved": 0})
        if status in OPEN_NOW:
            row["open"] += 1
        elif status == "in_progress":
            row["in_progress"] += 1
        elif status == "resolved" and closed is not None and _aware(closed) >= since_utc:
            row["resolved"] += 1
            resolutions.setdefault(key, []).append(_seconds(created, closed))
        if first_reply is not None and _aware(created) >= since_utc:
            replies.setdefault(key, []).append(_seconds(created, first_reply))
    result = []
    for key, row in counts.items():
        if not any(row.values()) and key not in replies:
            continue  # nothing in the period and nothing open: no row
        waits, spans = replies.get(key, []), resolutions.get(key, [])
        result.append(GroupFigures(key, row["open"], row["in_progress"], row["resolved"], len(waits),
                                   percentile(waits, 0.5), percentile(waits, 0.9),
                                   percentile(spans, 0.5), percentile(spans, 0.9)))
    return sorted(result, key=lambda g: (g.key is None, g.key or ""))


def per_department(session: Session, departments: Scope = None, days: int = 14,
                   now: Optional[datetime] = None, tz: tzinfo = timezone.utc) -> List[GroupFigures]:
    """Workload and times per department (sorted by key; tickets without a department last)."""
    return _group(session, "department", departments, window_start(days, now, tz))


def per_agent(session: Session, departments: Scope = None, days: int = 14,
              now: Optional[datetime] = None, tz: tzinfo = timezone.utc,
              agents: Optional[Sequence[Optional[str]]] = None) -> List[GroupFigures]:
    """Workload and times per assignee (user name; ``None`` for unassigned tickets, last).

    Args:
        session: The database session.
        departments: Only tickets of these departments (None: all).
        days: The period in local days, today included.
        now: The current time (tests).
        tz: The local time zone the days are counted in.
        agents: Only these assignees (None: everyone; include ``None`` for the unassigned row).
    """
    return _group(session, "assignee", departments, window_start(days, now, tz), agents)


def reasons_per_week(session: Session, departments: Scope = None, days: int = 14,
                     now: Optional[datetime] = None, tz: tzinfo = timezone.utc) -> List[WeekReasons]:
    """Tickets per handoff reason and local calendar week (oldest first; weeks without tickets as 0)."""
    start = window_start(days, now, tz)
    today = (now or utcnow()).astimezone(tz).date()
    weeks: Dict[date, Dict[str, int]] = {}
    monday = start.date() - timedelta(days=start.date().weekday())
    while monday <= today:
        weeks[monday] = {reason: 0 for reason in REASONS}
        monday += timedelta(days=7)
    query = select(Ticket.created_at, Ticket.reason).where(Ticket.created_at >= start.astimezone(timezone.utc))
    query = restrict(query, departments)
    for created, reason in session.execute(query):
        day = _aware(created).astimezone(tz).date()
        week = weeks.get(day - timedelta(days=day.weekday()))
        if week is not None and day <= today:
            week[reason] = week.get(reason, 0) + 1
    return [WeekReasons(max(first, start.date()), min(first + timedelta(days=6), today), first.isocalendar()[1],
                        reasons) for first, reasons in sorted(weeks.items())]
