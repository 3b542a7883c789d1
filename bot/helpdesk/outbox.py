"""Helpdesk delivery through the shared outbox (:mod:`bot.outbox`): never lost, never doubled.

A ticket is enqueued in the same database as the ticket itself (``enqueue`` right after ``create_ticket``): one
item of kind ``helpdesk:NAME`` per ticket and connector, whose key and payload are the case number (the ticket is
read at delivery time, so the outbox holds no personal data). Any number of :class:`DeliveryWorker` (one per web
process) deliver due items with the shared retry policy; the outbox's leases keep two workers from taking the same
one. If a lease expires while its worker is still delivering, the ticket can be sent twice; the connectors'
idempotency (the case number) keeps that from creating a second ticket in the helpdesk.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.helpdesk.base import Connector, DeliveryRejected, TicketPayload
from bot.helpdesk.models import kind, outbox_items
from bot.outbox import DEFAULT_POLICY, Item, Outbox, RetryPolicy
from bot.privacy import redact
from bot.tickets.models import Ticket, TicketEvent, utcnow

log = logging.getLogger(__name__)


def _utc(value: Optional[datetime] = None) -> datetime:
    value = value or utcnow()
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def outbox(session: Session, connector_name: str, **options: Any) -> Outbox:
    """The outbox of deliveries to ``connector_name`` in the database behind ``session``."""
    return Outbox(session.get_bind(), kind(connector_name), **options)


def enqueue(session: Session, ticket: Ticket, connector_name: str, now: Optional[datetime] = None) -> bool:
    """Queue ``ticket`` for delivery to ``connector_name``, once; False if it was queued (or delivered) before.

    Commits the session first: the outbox writes in a transaction of its own.
    """
    case_number = str(ticket.case_number)
    session.commit()
    return outbox(session, connector_name).put(case_number, {"case_number": case_number}, now=_utc(now))


def enqueue_missing(session: Session, connector_name: str, since: datetime, now: Optional[datetime] = None) -> int:
    """Enqueue tickets created since ``since`` that have no delivery to ``connector_name`` yet; returns how many."""
    queued = select(outbox_items.c.id).where(outbox_items.c.kind == kind(connector_name),
                                             outbox_items.c.key == Ticket.case_number)
    missing = select(Ticket).where(Ticket.created_at >= _utc(since), ~queued.exists())
    tickets = list(session.execute(missing).scalars())
    for ticket in tickets:
        enqueue(session, ticket, connector_name, now=now)
    return len(tickets)


class DeliveryWorker:
    """Delivers due tickets through one connector; run :meth:`run_once` periodically (or :meth:`run_forever`).

    Args:
        session_factory: makes a new session (e.g. ``bot.db.engine.session_factory(engine)``).
        connector: where tickets go.
        clock: the current time (aware datetime).
        policy: back-off between attempts, and after how many failed attempts a delivery becomes a dead letter
            (the same policy as every outbox: :data:`bot.outbox.DEFAULT_POLICY`).
        lease: how long a leased delivery is reserved for this worker; longer than one delivery can take.
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
        self._outbox: Optional[Outbox] = None

    def outbox(self, session: Session) -> Outbox:
        """The outbox this worker leases from (one owner for all its leases), made on first use."""
        if self._outbox is None or self._outbox.kind != kind(self.connector.name):
            self._outbox = outbox(session, self.connector.name, policy=self.policy, clock=self.clock,
                                  lease=self.lease)
        return self._outbox

    def run_once(self, limit: int = 100) -> Tuple[int, int, int]:
        """Deliver up to ``limit`` due tickets, one lease at a time.

        Returns:
            How many were delivered, scheduled for another attempt, and made dead letters.
        """
        counts = {"delivered": 0, "retried": 0, "failed": 0}
        with self.session_factory() as session:
            box = self.outbox(session)
            if self.sweep_window is not None:
                now = _utc(self.clock())
                enqueue_missing(session, self.connector.name, now - self.sweep_window, now=now)
            for _ in range(limit):
                leased = box.lease(1, now=_utc(self.clock()))
                if not leased:
                    break
                counts[self._attempt(session, box, leased[0])] += 1
        return counts["delivered"], counts["retried"], counts["failed"]

    def run_forever(self, stop: threading.Event, interval_s: float = 5.0) -> None:
        """Call :meth:`run_once` every ``interval_s`` until ``stop`` is set (errors are logged, not raised)."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception as err:  # the database may be briefly unavailable; try again next round
                log.warning("helpdesk delivery round failed: %s", type(err).__name__)
            stop.wait(interval_s)

    def _attempt(self, session: Session, box: Outbox, item: Item) -> str:
        case_number, attempts = item.key, item.attempts + 1
        ticket = session.execute(select(Ticket).where(Ticket.case_number == case_number)).scalar_one_or_none()
        if ticket is None:
            return self._dead(box, item, "ticket no longer exists")
        payload = TicketPayload.from_ticket(ticket)
        session.rollback()  # hold no transaction while talking to the helpdesk
        try:
            ref = self.connector.deliver(payload)
        except DeliveryRejected as err:
            return self._dead(box, item, err)
        except Exception as err:  # DeliveryError, or a connector bug: both are worth another try
            if self.policy.gives_up(attempts):
                return self._dead(box, item, err)
            retry_at = box.retry_later(item, _error_text(err), retry_after=getattr(err, "retry_after", None))
            if retry_at is None:
                return self._lost(item)
            log.warning("ticket %s: delivery to %s failed (%s), attempt %d, next at %s", case_number,
                        self.connector.name, _describe(err), attempts, retry_at.isoformat())
            return "retried"
        if not box.done(item, ref=ref):
            return self._lost(item)
        ticket = session.execute(select(Ticket).where(Ticket.case_number == case_number)).scalar_one()
        ticket.events.append(TicketEvent(actor="system", kind="delivered",
                                         data={"connector": self.connector.name, "ref": ref}))
        session.commit()
        return "delivered"

    def _dead(self, box: Outbox, item: Item, error: Any) -> str:
        if not box.dead(item, _error_text(error)):
            return self._lost(item)
        log.error("ticket %s: delivery to %s failed for good after %d attempt(s) (%s); kept for a person",
                  item.key, self.connector.name, item.attempts + 1, _describe(error))
        return "failed"

    def _lost(self, item: Item) -> str:
        log.warning("ticket %s: lease on delivery to %s expired before it finished", item.key, self.connector.name)
        return "retried"


def _error_text(error: Any) -> str:
    """What is kept of an error: its class and a redacted message; never credentials."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return redact(text)[:1000]


def _describe(error: Any) -> str:
    """Error class and HTTP status only: no personal data, no helpdesk answer."""
    if isinstance(error, str):
        return error
    status = getattr(error, "status", None)
    return f"{type(error).__name__}" + (f", HTTP {status}" if status else "")



