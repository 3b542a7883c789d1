"""Dead letters: deliveries that failed for good and wait for a manager to try them again or discard them.

Two kinds, both in the ticket database:

- ``helpdesk``: an item of the shared outbox (:mod:`bot.outbox`) that the receiver rejected or that ran out of
  attempts (``dead``, not delivered), e.g. a ticket the helpdesk refused;
- ``notification``: a ``notify_failed`` event of a ticket: the mail server refused the citizen's address for
  good (:mod:`bot.notifications.replies`).

A manager *retries* one (the outbox item is due again with fresh attempts; the notification event is removed, so
the next run sends it again) or *discards* it (the outbox item becomes a receipt without payload, so the case is
never queued again; the notification gets a ``dead_letter`` event that hides it). Either is written to the
ticket's history as a ``dead_letter`` event naming the manager. The shown error is redacted; an e-mail's text or
address is never shown. Dead outbox items older than the retention are deleted by :func:`purge_dead`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Set

from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import Session

from bot.errors import AuskunftError
from bot.outbox.store import items as outbox_items
from bot.privacy import redact
from bot.tickets.models import Ticket, TicketEvent, utcnow

HELPDESK, NOTIFICATION = "helpdesk", "notification"
EVENT_KIND = "dead_letter"  # the manager's retry or discard, in the ticket's history
DISCARDED = "discarded"  # the ``ref`` of a discarded outbox item's receipt
LIMIT = 500


class DeadLetterGone(AuskunftError, LookupError):
    """The dead letter does not exist (any more): retried, discarded or deleted meanwhile."""


@dataclass(frozen=True)
class DeadLetter:
    """One delivery that failed for good, as the dead-letter page shows it.

    ``ref`` names it in a form (``outbox-<id>`` or ``notification-<event id>``); ``target`` is where it should have
    gone (the helpdesk connector, or ``E-Mail``); ``error`` is redacted and short.
    """

    ref: str
    kind: str
    target: str
    case_number: str
    at: datetime
    error: str


def _ticket_of(session: Session, case_number: str) -> Optional[Ticket]:
    return session.execute(select(Ticket).where(Ticket.case_number == case_number)).scalar_one_or_none()


def _dead_items() -> Any:
    return and_(outbox_items.c.dead.is_(True), outbox_items.c.delivered_at.is_(None))


def _outbox_letters(session: Session) -> List[DeadLetter]:
    rows = session.execute(select(outbox_items).where(_dead_items()).order_by(outbox_items.c.id.desc())
                           .limit(LIMIT)).all()
    letters = []
    for row in rows:
        kind = str(row.kind)
        target = kind.split(":", 1)[1] if kind.startswith("helpdesk:") else kind
        at = row.next_attempt_at or row.created_at
        letters.append(DeadLetter(f"outbox-{row.id}", HELPDESK, target,
                                  str(row.key) if kind.startswith("helpdesk:") else "", _aware(at),
                                  redact(str(row.last_error or "ohne Angabe"))[:300]))
    return letters


def _discarded_events(session: Session) -> Set[int]:
    found: Set[int] = set()
    for data in session.execute(select(TicketEvent.data).where(TicketEvent.kind == EVENT_KIND)).scalars():
        if isinstance(data, dict) and isinstance(data.get("event_id"), int):
            found.add(data["event_id"])
    return found


def _notification_letters(session: Session) -> List[DeadLetter]:
    rows = session.execute(select(TicketEvent, Ticket.case_number).join(Ticket, Ticket.id == TicketEvent.ticket_id)
                           .where(TicketEvent.kind == "notify_failed").order_by(TicketEvent.id.desc())
                           .limit(LIMIT)).all()
    discarded = _discarded_events(session)
    letters = []
    for event, case_number in rows:
        if event.id in discarded:
            continue
        data: Dict[str, Any] = event.data if isinstance(event.data, dict) else {}
        code = data.get("code")
        error = f"Der Mailserver hat die Adresse abgelehnt (Code {int(code)})." if isinstance(code, int) else \
            "Der Mailserver hat die Adresse abgelehnt."
        letters.append(DeadLetter(f"notification-{event.id}", NOTIFICATION, "E-Mail", str(case_number),
                                  _aware(event.at), error))
    return letters


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def dead_letters(session: Session) -> List[DeadLetter]:
    """Every dead letter (at most :data:`LIMIT` of each kind), newest first."""
    letters = _outbox_letters(session) + _notification_letters(session)
    return sorted(letters, key=lambda letter: letter.at, reverse=True)


def count(session: Session) -> int:
    """How many dead letters there are (for the inbox's alert)."""
    return len(dead_letters(session))


def _parse(ref: str) -> tuple[str, int]:
    kind, _, number = ref.rpartition("-")
    if kind not in ("outbox", "notification") or not number.isdigit():
        raise DeadLetterGone(f"unknown dead letter '{ref[:40]}'")
    return kind, int(number)


def _audit(session: Session, case_number: str, actor: str, action: str, data: Dict[str, Any]) -> None:
    ticket = _ticket_of(session, case_number) if case_number else None
    if ticket is not None:
        ticket.events.append(TicketEvent(at=utcnow(), actor=actor[:80], kind=EVENT_KIND,
                                         data={"action": action, **data}))


def retry(session: Session, ref: str, actor: str) -> DeadLetter:
    """Try ``ref`` again; returns the dead letter as it was. Raises :class:`DeadLetterGone` if it is not there."""
    letter = _find(session, ref)
    kind, number = _parse(ref)
    if kind == "outbox":
        session.execute(update(outbox_items).where(outbox_items.c.id == number, _dead_items()).values(
            dead=False, attempts=0, next_attempt_at=utcnow(), leased_until=None, leased_by=None))
    else:  # without its notify_failed event the reply counts as not notified: the next run sends it
        ticket = _ticket_of(session, letter.case_number)
        event = session.get(TicketEvent, number)
        if ticket is not None and event in ticket.events:
            ticket.events.remove(event)  # delete-orphan: deleted, and gone from the loaded ticket too
        elif event is not None:
            session.delete(event)
    _audit(session, letter.case_number, actor, "retry", {"what": letter.kind, "target": letter.target})
    session.commit()
    return letter


def discard(session: Session, ref: str, actor: str) -> DeadLetter:
    """Give ``ref`` up for good; returns the dead letter as it was. Raises :class:`DeadLetterGone`."""
    letter = _find(session, ref)
    kind, number = _parse(ref)
    if kind == "outbox":  # a receipt without payload: the case is never queued (and delivered) again
        session.execute(update(outbox_items).where(outbox_items.c.id == number, _dead_items()).values(
            dead=False, payload={}, delivered_at=utcnow(), ref=DISCARDED, leased_until=None, leased_by=None))
        _audit(session, letter.case_number, actor, "discard", {"what": letter.kind, "target": letter.target})
    else:
        _audit(session, letter.case_number, actor, "discard", {"what": letter.kind, "event_id": number})
    session.commit()
    return letter


def _find(session: Session, ref: str) -> DeadLetter:
    _parse(ref)
    for letter in dead_letters(session):
        if letter.ref == ref:
            return letter
    raise DeadLetterGone(f"dead letter '{ref}' is not there (any more)")


def purge_dead(session: Session, cutoff: datetime) -> int:
    """Delete outbox dead letters whose last attempt, and receipts discarded, before ``cutoff`` (retention).

    Returns how many rows were deleted. Failed notifications are ticket events: they go with their ticket.
    """
    c = outbox_items.c
    died = c.dead.is_(True) & (c.created_at < cutoff) & (c.next_attempt_at < cutoff)
    discarded = (c.ref == DISCARDED) & (c.delivered_at < cutoff)
    return int(session.execute(delete(outbox_items).where(died | discarded)).rowcount or 0)
