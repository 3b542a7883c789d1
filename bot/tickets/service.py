"""Ticket operations, independent of HTTP (the API and the inbox are thin layers over these).

Every change is recorded as a :class:`TicketEvent` (history, internal notes, audit log of reads).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import AuskunftError
from bot.privacy import redact
from bot.tickets.departments import Departments
from bot.tickets.models import STATUSES, Reply, Ticket, TicketEvent, utcnow
from bot.tickets.schemas import ReplyIn, TicketCreate, TranscriptLine
from bot.tickets.scope import Scope, restrict

OPEN = ("new", "in_progress", "waiting")
TOPIC_PAGE = 500  # tickets read at a time when filtering by topic


class TicketConflict(AuskunftError, ValueError):
    """A different ticket already uses this case number."""


def _event(ticket: Ticket, actor: str, kind: str, text: Optional[str] = None,
           data: Optional[Dict[str, Any]] = None) -> TicketEvent:
    event = TicketEvent(actor=actor, kind=kind, text=text, data=data)
    ticket.events.append(event)
    return event


def create_ticket(session: Session, data: TicketCreate, departments: Optional[Departments] = None,
                  out_of_hours: bool = False) -> tuple[Ticket, bool]:
    """Store a ticket in its department's queue; personal data in the transcript and question is redacted first.

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
    department = departments.route((c.owner, c.score) for c in data.candidates) if departments else None
    ticket = Ticket(
        case_number=data.case_number,
        conversation_id=data.conversation_id,
        language=data.language,
        reason=data.reason,
        question=redact(data.question),
        candidates=[c.dict() for c in data.candidates],
        transcript=[_stored_line(line) for line in data.transcript],
        consent=data.consent,
        email=data.email,
        index_version=data.index_version,
        agency=data.agency,
        department=department,
        holds_conversation=False,
        out_of_hours=out_of_hours,
    )
    _event(ticket, "citizen", "created", data={"department": department, "reason": data.reason,
                                               "other_needs": [redact(q) for q in data.other_needs]})
    session.add(ticket)
    session.commit()
    return ticket, True


def get_ticket(session: Session, case_number: str) -> Optional[Ticket]:
    """The ticket with this case number, if any."""
    return session.execute(select(Ticket).where(Ticket.case_number == case_number)).scalar_one_or_none()


def list_tickets(session: Session, status: Optional[str] = None, limit: int = 100,
                 departments: Scope = None, language: Optional[str] = None,
                 topic: Optional[str] = None) -> List[Ticket]:
    """Tickets, oldest first, optionally filtered by status, department(s), language and topic (kb owner).

    The topic is read from each ticket's candidates, so with a topic the tickets are read page by page
    until ``limit`` of them match (a match behind the first ``limit`` tickets is not missed).
    """
    query = select(Ticket).order_by(Ticket.created_at, Ticket.id)
    if status == "open":
        query = query.where(Ticket.status.in_(OPEN))
    elif status:
        query = query.where(Ticket.status == status)
    query = restrict(query, departments)
    if language:
        query = query.where(Ticket.language == language)
    if not topic:
        return list(session.execute(query.limit(limit)).scalars())
    found: List[Ticket] = []
    offset = 0
    while len(found) < limit:
        page = list(session.execute(query.offset(offset).limit(TOPIC_PAGE)).scalars())
        found.extend(t for t in page if topic_of(t) == topic)
        if len(page) < TOPIC_PAGE:
            break
        offset += TOPIC_PAGE
    return found[:limit]


def topic_of(ticket: Ticket) -> str:
    """What a ticket is about: the kb owner of the bot's best candidate ('' if none)."""
    candidates = ticket.candidates or []
    return str(candidates[0].get("owner") or "") if candidates else ""


def waiting_count(session: Session, departments: Scope = None) -> int:
    """Tickets nobody has started on yet (status ``new``)."""
    query = select(func.count(Ticket.id)).where(Ticket.status == "new")
    query = restrict(query, departments)
    return int(session.execute(query).scalar_one())


def queue_position(session: Session, ticket: Ticket) -> int:
    """1 + the number of new tickets in the same queue created before this one (0 once someone works on it)."""
    if ticket.status != "new":
        return 0
    ahead = session.execute(
        select(func.count(Ticket.id)).where(Ticket.status == "new", Ticket.department == ticket.department,
                                            Ticket.id < ticket.id)
    ).scalar_one()
    return int(ahead) + 1


def set_status(session: Session, ticket: Ticket, status: str, actor: str = "system") -> Ticket:
    """Move a ticket through new → in_progress → waiting → resolved; resolving gives the conversation back."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    previous = ticket.status
    ticket.status = status
    ticket.closed_at = utcnow() if status == "resolved" else None
    if status == "resolved":
        ticket.holds_conversation = False
    _event(ticket, actor, "status", data={"from": previous, "to": status})
    session.commit()
    return ticket


def assign(session: Session, ticket: Ticket, agent: str) -> Ticket:
    """An agent takes the ticket: in progress, and the bot stays silent in that conversation."""
    ticket.assignee = agent
    if ticket.status == "new":
        ticket.status = "in_progress"
    ticket.holds_conversation = ticket.status != "resolved"
    _event(ticket, agent, "assigned", data={"assignee": agent})
    session.commit()
    return ticket


def transfer(session: Session, ticket: Ticket, department: str, actor: str, note: str,
             departments: Departments) -> Ticket:
    """Move a ticket to another department's queue with a note; its whole history goes with it."""
    if department not in departments.by_key:
        raise ValueError(f"unknown department {department!r}")
    previous = ticket.department
    ticket.department = department
    ticket.assignee = None
    if ticket.status == "in_progress":
        ticket.status = "new"
    _event(ticket, actor, "transferred", text=note, data={"from": previous, "to": department})
    session.commit()
    return ticket


def add_note(session: Session, ticket: Ticket, actor: str, text: str) -> TicketEvent:
    """An internal note (never shown to the citizen)."""
    event = _event(ticket, actor, "note", text=text)
    session.commit()
    return event


def record_read(session: Session, ticket: Ticket, actor: str) -> None:
    """Audit log: ``actor`` opened this ticket."""
    _event(ticket, actor, "read")
    session.commit()


def add_reply(session: Session, ticket: Ticket, reply: ReplyIn, actor: Optional[str] = None) -> Reply:
    """Store an agent's reply; the ticket waits for the citizen and a person now holds the conversation."""
    stored = Reply(ticket_id=ticket.id, author=reply.author, text=reply.text)
    session.add(stored)
    if ticket.status in ("new", "in_progress"):
        ticket.status = "waiting"
    if ticket.first_reply_at is None:
        ticket.first_reply_at = utcnow()
    ticket.holds_conversation = True
    _event(ticket, actor or reply.author, "reply", text=reply.text)
    session.commit()
    session.refresh(ticket)
    return stored


def hand_back(session: Session, ticket: Ticket, actor: str) -> Ticket:
    """The agent gives the conversation back to the bot (the ticket stays as it is)."""
    ticket.holds_conversation = False
    _event(ticket, actor, "handed_back")
    session.commit()
    return ticket


def _stored_line(line: TranscriptLine) -> Dict[str, Any]:
    """A transcript line as stored: text and button titles redacted, the bot's extras only where present."""
    stored: Dict[str, Any] = {"role": line.role, "text": redact(line.text),
                              "at": line.at.isoformat() if line.at else None}
    if line.options:
        stored["options"] = [redact(title) for title in line.options]
    if line.choice:
        stored["choice"] = redact(line.choice)
    stored.update({key: value for key, value in (("decision", line.decision), ("score", line.score),
                                                 ("faq_id", line.faq_id)) if value is not None})
    return stored


def holding_ticket(session: Session, conversation_id: str) -> Optional[Ticket]:
    """The open ticket whose agent currently holds this conversation, if any."""
    return session.execute(
        select(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.holds_conversation.is_(True),
                             Ticket.status.in_(OPEN)).order_by(Ticket.id.desc()).limit(1)
    ).scalar_one_or_none()


def add_citizen_message(session: Session, ticket: Ticket, text: str) -> None:
    """A message the citizen sent while a person holds the conversation: into the transcript, redacted."""
    line = {"role": "citizen", "text": redact(text), "at": utcnow().isoformat()}
    ticket.transcript = [*(ticket.transcript or []), line]
    if ticket.status == "waiting":
        ticket.status = "in_progress"
    _event(ticket, "citizen", "citizen_message", text=line["text"])
    session.commit()


def replies_for_conversation(session: Session, conversation_id: str, after_id: int = 0) -> List[tuple[Reply, str]]:
    """Agents' replies in one conversation's tickets, oldest first, with their case numbers."""
    rows = session.execute(
        select(Reply, Ticket.case_number).join(Ticket, Reply.ticket_id == Ticket.id)
        .where(Ticket.conversation_id == conversation_id, Reply.id > after_id).order_by(Reply.id)
    ).all()
    return [(reply, case_number) for reply, case_number in rows]
