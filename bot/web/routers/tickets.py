"""``/api/tickets``: create (idempotent), list, read, change status, reply.

Each route needs its scope (``tickets:create``, ``tickets:read``, ``tickets:write``; see
:mod:`bot.web.api_auth`); a token limited to agencies sees only their tickets (404 for the others), and every
read of a ticket is written to its history (``read`` by ``token:<name>``), like an agent opening it.
"""

from __future__ import annotations

from typing import List, Optional

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy.orm import Session

from bot.metrics import count_ticket_created
from bot.staff.api_tokens import Principal
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
from bot.tickets.scope import TicketScope
from bot.web.deps import (
    AgenciesDep,
    DbDep,
    DepartmentsDep,
    LimitsDep,
    OfficeHoursDep,
    ReplyHookDep,
    TicketHookDep,
    TicketsCreateDep,
    TicketsReadDep,
    TicketsWriteDep,
)
from bot.web.ratelimit import too_many_requests

router = APIRouter(prefix="/api/tickets", tags=["tickets"],
                   responses={401: {"description": "missing, unknown, revoked or expired API token"},
                              403: {"description": "the token lacks the route's scope"}})


def _found(session: Session, case_number: str, caller: Principal, default_agency: str) -> Ticket:
    """The ticket if it exists and the caller's agencies include its agency; 404 otherwise (the same answer)."""
    ticket = service.get_ticket(session, case_number)
    if ticket is None or not caller.sees(ticket.agency, default_agency):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no ticket with case number {case_number}")
    return ticket


HANDOFF_BUDGET = ("handoff budget spent: too many tickets from this citizen's address (or from everyone) right now; "
                  "tell the citizen to try again in {seconds} seconds or to use the agency's other contact")


@router.post("", response_model=TicketCreated, status_code=status.HTTP_201_CREATED,
             responses={429: {"description": "The handoff budget of the conversation's address (or the global one) "
                              "is spent: no ticket was made; do not queue it, tell the citizen"}})
def create_ticket(data: TicketCreate, response: Response, session: DbDep, departments: DepartmentsDep,
                  hours: OfficeHoursDep, ticket_created: TicketHookDep, limits: LimitsDep, caller: TicketsCreateDep,
                  agencies: AgenciesDep) -> TicketCreated:
    """Create a ticket in its department's queue; repeating the same request returns the stored ticket with 200.

    The answer says where the ticket stands (queue position) and, outside office hours, when the
    office opens next, so the bot can tell the citizen when to expect an answer. A new ticket counts against
    the handoff budget of the address the conversation's messages came from (``/api/chat``), however the handoff
    was triggered; beyond it the answer is 429 with ``Retry-After``. A token limited to agencies creates
    tickets for those agencies only (403 otherwise).
    """
    if not caller.sees(data.agency, agencies.default.key):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"the token {caller.name!r} may not create tickets "
                                                              f"for the agency {data.agency or agencies.default.key!r}")
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
    caller: TicketsReadDep,
    agencies: AgenciesDep,
    status_: Optional[str] = Query(None, alias="status", regex="^(open|new|in_progress|waiting|resolved)$"),
    department: Optional[str] = Query(None, max_length=60),
    language: Optional[str] = Query(None, regex="^(de|en)$"),
    limit: int = Query(100, ge=1, le=1000),
) -> List[Ticket]:
    """Tickets, oldest first, filtered by status (``open`` = not resolved), department and language.

    Only the token's agencies; a list shows no transcripts, so it is not recorded as a read of each ticket.
    """
    scope = TicketScope((department,) if department else None,
                        tuple(sorted(caller.agencies)) if caller.agencies is not None else None, agencies.default.key)
    return service.list_tickets(session, status_, limit, scope, language)


@router.get("/{case_number}", response_model=TicketOut)
def read_ticket(case_number: str, session: DbDep, caller: TicketsReadDep, agencies: AgenciesDep) -> TicketOut:
    """One ticket with transcript, candidates and replies; the read is recorded in its history.

    The answer's events are taken before the read is recorded: it shows the ticket as it was read.
    """
    ticket = _found(session, case_number, caller, agencies.default.key)
    result = TicketOut.from_orm(ticket)
    service.record_read(session, ticket, caller.actor)
    return result


@router.patch("/{case_number}", response_model=TicketOut)
def change_status(case_number: str, change: StatusChange, session: DbDep, caller: TicketsWriteDep,
                  agencies: AgenciesDep) -> Ticket:
    """Move a ticket through new → in_progress → waiting → resolved."""
    ticket = _found(session, case_number, caller, agencies.default.key)
    return service.set_status(session, ticket, change.status, actor=caller.actor)


@router.post("/{case_number}/replies", response_model=ReplyOut, status_code=status.HTTP_201_CREATED)
def reply(case_number: str, data: ReplyIn, session: DbDep, reply_stored: ReplyHookDep, caller: TicketsWriteDep,
          agencies: AgenciesDep) -> object:
    """Store an agent's reply to the citizen (shown in the chat; e-mailed where the citizen left an address)."""
    ticket = _found(session, case_number, caller, agencies.default.key)
    stored = service.add_reply(session, ticket, data)
    reply_stored(session, ticket, stored)
    return stored
