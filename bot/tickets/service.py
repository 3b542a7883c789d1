"""Ticket operations, independent of HTTP (the router is a thin layer over these)."""

from __future__ import annotations

from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.privacy import redact
from bot.tickets.models import Reply, Ticket, utcnow
from bot.tickets.schemas import ReplyIn, TicketCreate


class TicketConflict(ValueError):
    """A different ticket already uses this case number."""


def create_ticket(session: Session, data: TicketCreate) -> tuple[Ticket, bool]:
    """Store a ticket; personal data in the transcript and question is redacted first.

    Returns:
        The ticket and whether it was created now (False: an identical retry).

    Raises:
        TicketConflict: the case number belongs to another conversation.
    """
    existing = get_ticket(session, data.case_number)
    if existing is not None:
        if existing.conversation_id != data.conversation_id:
            raise TicketConflict(f"case number {data.case_number} is already used by another conversation")
        return existing, False
    ticket = Ticket(
        case_number=data.case_number,
        conversation_id=data.conversation_id,
        language=data.language,
        reason=data.reason,
        question=redact(data.question),
        candidates=[c.dict() for c in data.candidates],
        transcript=[
            {"role": line.role, "text": redact(line.text), "at": line.at.isoformat() if line.at else None}
            for line in data.transcript
        ],
        consent=data.consent,
        email=data.email,
        index_version=data.index_version,
    )
    session.add(ticket)
    session.commit()
    return ticket, True


def get_ticket(session: Session, case_number: str) -> Optional[Ticket]:
    """The ticket with this case number, if any."""
    return session.execute(select(Ticket).where(Ticket.case_number == case_number)).scalar_one_or_none()


def list_tickets(session: Session, status: Optional[str] = None, limit: int = 100) -> List[Ticket]:
    """Tickets, oldest first, optionally of one status."""
    query = select(Ticket).order_by(Ticket.created_at, Ticket.id).limit(limit)
    if status:
        query = query.where(Ticket.status == status)
    return list(session.execute(query).scalars())


def set_status(session: Session, ticket: Ticket, status: str) -> Ticket:
    """Move a ticket to ``status``; resolving stamps ``closed_at``."""
    ticket.status = status
    ticket.closed_at = utcnow() if status == "resolved" else None
    session.commit()
    return ticket


def replies_for_conversation(session: Session, conversation_id: str, after_id: int = 0) -> List[tuple[Reply, str]]:
    """Agents' replies in one conversation's tickets, oldest first, with their case numbers."""
    rows = session.execute(
        select(Reply, Ticket.case_number).join(Ticket, Reply.ticket_id == Ticket.id)
        .where(Ticket.conversation_id == conversation_id, Reply.id > after_id).order_by(Reply.id)
    ).all()
    return [(reply, case_number) for reply, case_number in rows]


def add_reply(session: Session, ticket: Ticket, reply: ReplyIn) -> Reply:
    """Store an agent's reply and mark the ticket as waiting for the citizen."""
    stored = Reply(ticket_id=ticket.id, author=reply.author, text=reply.text)
    session.add(stored)
    if ticket.status in ("new", "in_progress"):
        ticket.status = "waiting"
    session.commit()
    session.refresh(ticket)
    return stored
