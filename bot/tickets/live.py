"""What changed in the inbox, as counters and ids only: for the live updates of the queue and the ticket page.

A ticket's *version* is the id of its newest event other than a read (a message, reply, status change, note,
assignment or transfer all add one); it is *unread* for an agent when the citizen wrote after that agent's last
read of it. The state carries case numbers and numbers, never what anyone wrote.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from bot.tickets.models import Ticket, TicketEvent
from bot.tickets.scope import Scope, restrict
from bot.tickets.service import OPEN, waiting_count

MAX_TICKETS = 1000  # the newest open tickets reported; the queue shows at most 500


def live_state(session: Session, departments: Scope, reader: str,
               watch: Optional[str] = None) -> Dict[str, Any]:
    """The open tickets' versions and unread flags for one agent, and the number waiting.

    Args:
        session: The database session.
        departments: The agent's departments; None for a manager (all).
        reader: The agent's user name (whose reads count for "unread").
        watch: A case number to report even when it is closed (the ticket page that is open).

    Returns:
        ``{"waiting": int, "tickets": {case_number: {"v": version, "u": unread}}}``.
    """
    version = func.max(case((TicketEvent.kind != "read", TicketEvent.id), else_=None))
    message = func.max(case((TicketEvent.kind == "citizen_message", TicketEvent.id), else_=None))
    read = func.max(case((and_(TicketEvent.kind == "read", TicketEvent.actor == reader), TicketEvent.id), else_=None))
    shown = Ticket.status.in_(OPEN) if not watch else or_(Ticket.status.in_(OPEN), Ticket.case_number == watch)
    query = (select(Ticket.case_number, version, message, read).join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
             .where(shown).group_by(Ticket.id, Ticket.case_number).order_by(Ticket.id.desc()).limit(MAX_TICKETS))
    query = restrict(query, departments)
    tickets = {str(number): {"v": int(v or 0), "u": bool(m and (r is None or m > r))}
               for number, v, m, r in session.execute(query).all()}
    return {"waiting": waiting_count(session, departments), "tickets": tickets}
