"""The note a citizen's conversation gets when staff close its case.

When an agent resolves a ticket (:func:`bot.tickets.service.set_status`), its ``status`` event is the note: the
widget reads it from ``/api/chat/replies`` beside the staff replies and shows it as a status line, in the
ticket's language. Reopening and resolving again gives a new note; nothing extra is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import List

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.tickets.models import Ticket, TicketEvent

CLOSED = {
    "de": "Ihr Anliegen (Fall {case}) wurde abgeschlossen. Sie können hier jederzeit eine neue Frage stellen.",
    "en": "Your case ({case}) has been closed. You can ask a new question here at any time.",
}


@dataclass(frozen=True)
class ClosingNote:
    """One "case closed" note.

    Attributes:
        id: the id of the status event that resolved the case (the cursor ``closed_after`` counts these).
        case_number: the case.
        text: the note in the ticket's language.
        at: when the case was resolved.
    """

    id: int
    case_number: str
    text: str
    at: datetime


def closing_notes(session: Session, conversation_id: str, after_id: int = 0) -> List[ClosingNote]:
    """Notes for the cases of one conversation resolved by status events newer than ``after_id``, oldest first."""
    rows = session.execute(
        select(TicketEvent, Ticket.case_number, Ticket.language).join(Ticket, TicketEvent.ticket_id == Ticket.id)
        .where(Ticket.conversation_id == conversation_id, TicketEvent.kind == "status", TicketEvent.id > after_id)
        .order_by(TicketEvent.id)
    ).all()
    notes = []
    for event, case_number, language in rows:
        data = event.data if isinstance(event.data, dict) else {}
        if data.get("to") == "resolved" and data.get("from") != "resolved":
            text = CLOSED.get(language or "de", CLOSED["de"]).format(case=case_number)
            notes.append(ClosingNote(event.id, case_number, text, event.at))
    return notes
