"""The delivery outbox: one row per ticket and connector, delivered by workers with retries; never lost, never doubled.

A ticket is enqueued in the same database as the ticket itself (``enqueue`` right after ``create_ticket``). Any
number of :class:`DeliveryWorker` (one per web process) deliver due rows. A worker first *claims* a row with an
atomic ``UPDATE ... WHERE status='pending' AND next_attempt_at <= now AND (claimed_until IS NULL OR claimed_until <
now)`` that sets a lease (``claimed_until``, ``claimed_by``); only the worker whose UPDATE changed the row delivers
it. This works the same on SQLite (writers are serialised) and PostgreSQL (a concurrent UPDATE re-checks the WHERE
clause after the first one commits). A worker that dies mid-delivery leaves a lease that simply expires. If a
lease expires while its worker is still delivering, the row can be delivered twice; the connectors' idempotency
(the case number) keeps that from creating a second ticket in the helpdesk.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.helpdesk.base import Connector, DeliveryRejected, TicketPayload
from bot.helpdesk.models import Delivery
from bot.outbox.policy import DEFAULT_POLICY, RetryPolicy
from bot.privacy import redact
from bot.tickets.models import Ticket, TicketEvent, utcnow

log = logging.getLogger(__name__)


def _utc(value: Optional[datetime] = None) -> datetime:
    value = value or utcnow()
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _due(now: datetime, connector_name: Optional[str]) -> List[Any]:
    clauses = [Delivery.status == "pending", Delivery.next_attempt_at <= now,
               or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now)]
    return clauses + ([Delivery.connector == connector_name] if connector_name else [])


def enqueue(session: Session, ticket: Ticket, connector_name: str, now: Optional[datetime] = None) -> Delivery:
    """Queue ``ticket`` for delivery to ``connector_name``, once (a repeat returns the existing row). Commits."""
    query = select(Delivery).where(Delivery.case_number == ticket.case_number, Delivery.connector == connector_name)
    existing = session.execute(query).scalar_one_or_none()
    if existing is not None:
        return existing
    delivery = Delivery(case_number=ticket.case_number, connector=connector_name, status="pending", attempts=0,
                        next_attempt_at=_utc(now), created_at=_utc(now))
    session.add(delivery)
    try:
        session.commit()
    except IntegrityError:  # another process enqueued it at the same moment
        session.rollback()
        return session.execute(query).scalar_one()
    return delivery


def enqueue_missing(session: Session, connector_name: str, since: datetime, now: Optional[datetime] = None) -> int:
    """Enqueue tickets created since ``since`` that have no delivery to ``connector_name`` yet; returns how many."""
    missing = select(Ticket).where(Ticket.created_at >= _utc(since), ~select(Delivery.id).where(
        Delivery.case_number == Ticket.case_number, Delivery.connector == connector_name).exists())
    tickets = list(session.execute(missing).scalars())
    for ticket in tickets:
        enqueue(session, ticket, connector_name, now=now)
    return len(tickets)


def due(session: Session, now: Optional[datetime] = None, limit: int = 100,
        connector_name: Optional[str] = None) -> List[Delivery]:
    """Pending deliveries whose next attempt is due and that no worker holds, oldest due first."""
    query = select(Delivery).where(*_due(_utc(now), connector_name))
    return list(session.execute(query.order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)).scalars())


def claim(session: Session, connector_name: str, now: datetime, lease: timedelta, owner: str) -> Optional[Delivery]:
    """Atomically take one due delivery for ``owner`` until ``now + lease``; None if there is none to take."""
    now = _utc(now)
    candidates = [d.id for d in due(session, now, limit=10, connector_name=connector_name)]
    session.rollback()  # end the read before writing (SQLite: no stale snapshot to upgrade)
    for delivery_id in candidates:
        taken = session.execute(update(Delivery).where(Delivery.id == delivery_id, *_due(now, connector_name))
                                .values(claimed_until=now + lease, claimed_by=owner)
                                .execution_options(synchronize_session=False))
        session.commit()
        if taken.rowcount == 1:
            query = select(Delivery).where(Delivery.id == delivery_id).execution_options(populate_existing=True)
            return session.execute(query).scalar_one()
    return None


class DeliveryWorker:
    """Delivers due tickets through one connector; run :meth:`run_once` periodically (or :meth:`run_forever`).

    Args:
        session_factory: makes a new session (e.g. ``bot.db.engine.session_factory(engine)``).
        connector: where tickets go.
        clock: the current time (aware datetime).
        policy: back-off between attempts, and after how many failed attempts a delivery is marked failed (the
            same policy as every outbox: :data:`bot.outbox.DEFAULT_POLICY`).
        lease: how long a claimed delivery is reserved for this worker; longer than one delivery can take.
        sweep_window: before each run, enqueue tickets created this recently that were never enqueued (a crash
            between ``create_ticket`` and ``enqueue``); None: off.
    """

    def __init__(self, session_factory: Callable[[], Session], connector: Connector,
                 clock: Callable[[], datetime] = utcnow, policy: RetryPolicy = DEFAULT_POLICY,
                 lease: timedelta = timedelta(minutes=5), sweep_window: Optional[timedelta] = timedelta(hours=1)
                 ) -> None:
        self.session_factory = session_factory
        self.connector = connector
        self.clock = clock
        self.policy = policy
        self.lease = lease
        self.sweep_window = sweep_window
        self.owner = uuid.uuid4().hex

    def run_once(self, limit: int = 100) -> Tuple[int, int, int]:
        """Deliver up to ``limit`` due tickets, one claim at a time.

        Returns:
            How many were delivered, scheduled for another attempt, and marked failed.
        """
        counts = {"delivered": 0, "retried": 0, "failed": 0}
        with self.session_factory() as session:
            if self.sweep_window is not None:
                now = _utc(self.clock())
                enqueue_missing(session, self.connector.name, now - self.sweep_window, now=now)
            for _ in range(limit):
                now = _utc(self.clock())
                delivery = claim(session, self.connector.name, now, self.lease, self.owner)
                if delivery is None:
                    break
                counts[self._attempt(session, delivery, now)] += 1
        return counts["delivered"], counts["retried"], counts["failed"]

    def run_forever(self, stop: threading.Event, interval_s: float = 5.0) -> None:
        """Call :meth:`run_once` every ``interval_s`` until ``stop`` is set (errors are logged, not raised)."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception as err:  # the database may be briefly unavailable; try again next round
                log.warning("helpdesk delivery round failed: %s", type(err).__name__)
            stop.wait(interval_s)

    def _attempt(self, session: Session, delivery: Delivery, now: datetime) -> str:
        row, case_number, attempts = int(delivery.id), str(delivery.case_number), int(delivery.attempts) + 1
        ticket = session.execute(select(Ticket).where(Ticket.case_number == case_number)).scalar_one_or_none()
        if ticket is None:
            return self._finish(session, row, case_number, "failed", attempts, error="ticket no longer exists")
        payload = TicketPayload.from_ticket(ticket)
        session.rollback()  # hold no transaction while talking to the helpdesk
        try:
            ref = self.connector.deliver(payload)
        except DeliveryRejected as err:
            return self._finish(session, row, case_number, "failed", attempts, error=err)
        except Exception as err:  # DeliveryError, or a connector bug: both are worth another try
            if self.policy.gives_up(attempts):
                return self._finish(session, row, case_number, "failed", attempts, error=err)
            retry_at = now + timedelta(seconds=self.policy.pause(attempts, getattr(err, "retry_after", None)))
            log.warning("ticket %s: delivery to %s failed (%s), attempt %d, next at %s", case_number,
                        self.connector.name, _describe(err), attempts, retry_at.isoformat())
            return self._finish(session, row, case_number, "pending", attempts, error=err, retry_at=retry_at)
        return self._finish(session, row, case_number, "delivered", attempts, ref=ref, now=now)

    def _finish(self, session: Session, row: int, case_number: str, status: str, attempts: int, error: Any = None,
                retry_at: Optional[datetime] = None, ref: Optional[str] = None, now: Optional[datetime] = None) -> str:
        """Record the outcome, but only while this worker still holds the lease; returns the count to bump."""
        values: Dict[str, Any] = {"status": status, "attempts": attempts, "claimed_until": None, "claimed_by": None}
        if error is not None:
            text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
            values["last_error"] = redact(text)[:1000]
        if retry_at is not None:
            values["next_attempt_at"] = retry_at
        if status == "delivered":
            values.update(external_ref=ref, delivered_at=now, last_error=None)
        outcome = "retried" if status == "pending" else status
        mine = update(Delivery).where(Delivery.id == row, Delivery.claimed_by == self.owner).values(**values)
        if session.execute(mine.execution_options(synchronize_session=False)).rowcount != 1:
            session.rollback()
            log.warning("ticket %s: lease on delivery to %s expired before it finished", case_number,
                        self.connector.name)
            return outcome
        if status == "delivered":
            ticket = session.execute(select(Ticket).where(Ticket.case_number == case_number)).scalar_one()
            ticket.events.append(TicketEvent(actor="system", kind="delivered",
                                             data={"connector": self.connector.name, "ref": ref}))
        elif status == "failed":
            log.error("ticket %s: delivery to %s failed for good after %d attempt(s) (%s); kept for a person",
                      case_number, self.connector.name, attempts, _describe(error))
        session.commit()
        return outcome


def _describe(error: Any) -> str:
    """Error class and HTTP status only: no personal data, no helpdesk answer."""
    if isinstance(error, str):
        return error
    status = getattr(error, "status", None)
    return f"{type(error).__name__}" + (f", HTTP {status}" if status else "")
