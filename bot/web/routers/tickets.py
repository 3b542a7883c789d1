"""``/api/tickets``: create (idempotent), list, read, change status, reply."""

from __future__ import annotations

from typing import List, Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from sqlalchemy.orm import Session

from bot.metrics import count_ticket_created
from bot.tickets import service
from bot.tickets.models import Ticket, utcnow
from bot.tickets.schemas import (
    ReplyIn,
    ReplyOut,
    StatusChange,
    TicketCreate,
    TicketCreated,
    TicketOut,
    TicketSummary,
)
from bot.web.deps import (
    DbDep,
    DepartmentsDep,
    LimitsDep,
    OfficeHoursDep,
    ReplyHookDep,
    TicketHookDep,
    require_token,
)
from bot.web.ratelimit import too_many_requests

router = APIRouter(prefix="/api/tickets", tags=["tickets"], dependencies=[Depends(require_token)])


def _found(session: Session, case_number: str) -> Ticket:
    ticket = service.get_ticket(session, case_number)
    if ticket is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no ticket with case number {case_number}")
    return ticket


HANDOFF_BUDGET = ("handoff budget spent: too many tickets from this citizen's address (or from everyone) right now; "
                  "tell the citizen to try again in {seconds} seconds or to use the agency's other contact")


@router.post("", response_model=TicketCreated, status_code=status.HTTP_201_CREATED,
             responses={429: {"description": "The handoff budget of the conversation's address (or the global one) "
                              "is spent: no ticket was made; do not queue it, tell the citizen"}})
def create_ticket(data: TicketCreate, response: Response, session: DbDep, departments: DepartmentsDep,
                  hours: OfficeHoursDep, ticket_created: TicketHookDep, limits: LimitsDep) -> TicketCreated:
    """Create a ticket in its department's queue; repeating the same request returns the stored ticket with 200.

    The answer says where the ticket stands (queue position) and, outside office hours, when the
    office opens next, so the bot can tell the citizen when to expect an answer. A new ticket counts against
    the handoff budget of the address the conversation's messages came from (``/api/chat``), however the handoff
    was triggered; beyond it the answer is 429 with ``Retry-After``.
    """
    if service.get_ticket(session, data.case_number) is None:  # a repeated delivery is not a new handoff
        decision = limits.handoff(data.conversation_id)
        if not decision.allowed:
            raise too_many_requests(decision, HANDOFF_BUDGET)
    now = utcnow()
    try:
        ticket, created = service.create_ticket(session, data, departments,
                                                 out_of_hours=not hours.is_open(now))
    except service.TicketConflict as err:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(err)) from None
    if not created:
        response.status_code = status.HTTP_200_OK
    else:
        ticket_created(session, ticket)
        count_ticket_created(data.reason)
    result = TicketCreated.from_orm(ticket)
    result.queue_position = service.queue_position(session, ticket)
    result.office_open = hours.is_open(now)
    result.next_opening = None if result.office_open else hours.next_opening(now)
    return result


@router.get("", response_model=List[TicketSummary])
def list_tickets(
    session: DbDep,
    status_: Optional[str] = Query(None, alias="status", regex="^(open|new|in_progress|waiting|resolved)$"),
    department: Optional[str] = Query(None, max_length=60),
    language: Optional[str] = Query(None, regex="^(de|en)$"),
    limit: int = Query(100, ge=1, le=1000),
) -> List[Ticket]:
    """Tickets, oldest first, filtered by status (``open`` = not resolved), department and language."""
    return service.list_tickets(session, status_, limit, [department] if department else None, language)


@router.get("/{case_number}", response_model=TicketOut)
def read_ticket(case_number: str, session: DbDep) -> Ticket:
    """One ticket with transcript, candidates and replies."""
    return _found(session, case_number)


@router.patch("/{case_number}", response_model=TicketOut)
def change_status(case_number: str, change: StatusChange, session: DbDep) -> Ticket:
    """Move a ticket through new → in_progress → waiting → resolved."""
    return service.set_status(session, _found(session, case_number), change.status, actor="api")


@router.post("/{case_number}/replies", response_model=ReplyOut, status_code=status.HTTP_201_CREATED)
def reply(case_number: str, data: ReplyIn, session: DbDep, reply_stored: ReplyHookDep) -> object:
    """Store an agent's reply to the citizen (shown in the chat; e-mailed where the citizen left an address)."""
    ticket = _found(session, case_number)
    stored = service.add_reply(session, ticket, data)
    reply_stored(session, ticket, stored)
    return stored
