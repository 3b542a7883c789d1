"""``/api/tickets``: create (idempotent), list, read, change status, reply."""

from __future__ import annotations

from typing import List, Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from sqlalchemy.orm import Session

from bot.tickets import service
from bot.tickets.models import Ticket
from bot.tickets.schemas import ReplyIn, ReplyOut, StatusChange, TicketCreate, TicketOut, TicketSummary
from bot.web.deps import get_db, require_token

router = APIRouter(prefix="/api/tickets", tags=["tickets"], dependencies=[Depends(require_token)])


def _found(session: Session, case_number: str) -> Ticket:
    ticket = service.get_ticket(session, case_number)
    if ticket is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no ticket with case number {case_number}")
    return ticket


@router.post("", response_model=TicketOut, status_code=status.HTTP_201_CREATED)
def create_ticket(data: TicketCreate, response: Response, session: Session = Depends(get_db)) -> Ticket:
    """Create a ticket; repeating the same request returns the stored ticket with 200."""
    try:
        ticket, created = service.create_ticket(session, data)
    except service.TicketConflict as err:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(err)) from None
    if not created:
        response.status_code = status.HTTP_200_OK
    return ticket


@router.get("", response_model=List[TicketSummary])
def list_tickets(
    status_: Optional[str] = Query(None, alias="status", pattern="^(new|in_progress|waiting|resolved)$"),
    limit: int = Query(100, ge=1, le=1000),
    session: Session = Depends(get_db),
) -> List[Ticket]:
    """Tickets, oldest first."""
    return service.list_tickets(session, status_, limit)


@router.get("/{case_number}", response_model=TicketOut)
def read_ticket(case_number: str, session: Session = Depends(get_db)) -> Ticket:
    """One ticket with transcript, candidates and replies."""
    return _found(session, case_number)


@router.patch("/{case_number}", response_model=TicketOut)
def change_status(case_number: str, change: StatusChange, session: Session = Depends(get_db)) -> Ticket:
    """Move a ticket through new → in_progress → waiting → resolved."""
    return service.set_status(session, _found(session, case_number), change.status)


@router.post("/{case_number}/replies", response_model=ReplyOut, status_code=status.HTTP_201_CREATED)
def reply(case_number: str, data: ReplyIn, session: Session = Depends(get_db)) -> object:
    """Store an agent's reply to the citizen."""
    return service.add_reply(session, _found(session, case_number), data)
