"""Link a ticket to the FAQ entry that answers it; list, accept and reject the phrasings this suggests.

Accepting writes the ticket's question (redacted when the ticket was stored) into the ``questions:`` of the kb
file that holds the entry, in the agency's layer where that entry lives, validated by the kb loader; if the kb
is in a git repository the change is committed with the editor as author. The kb watcher then rebuilds the index.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config.agencies import Agencies, Agency, UnknownAgency
from bot.errors import AuskunftError
from bot.kb.errors import KbValidationError
from bot.kb.layers import load_layers
from bot.suggestions.git_commit import KbCommitError, commit_file, editor_identity
from bot.suggestions.kb_file import PhrasingError, add_phrasing
from bot.suggestions.models import ACCEPTED, NO_ENTRY, PENDING, REJECTED, PhrasingSuggestion
from bot.tickets.models import Ticket, TicketEvent, utcnow

LINK_EVENT = "faq_linked"
_WRITING = threading.Lock()  # one accept at a time edits and commits kb files in this process


class SuggestionError(AuskunftError, ValueError):
    """The link or decision is not possible; the message (German) says why."""


@dataclass(frozen=True)
class EntryOption:
    """An entry an agent can link: id and title."""

    id: str
    title: str


def agency_for(agencies: Agencies, key: Optional[str]) -> Agency:
    """The ticket's agency; a key the deployment no longer serves counts as the default agency."""
    try:
        return agencies.get(key)
    except UnknownAgency:
        return agencies.default


def entry_options(agency: Agency) -> List[EntryOption]:
    """The agency's entries (its layers merged) sorted by title; none if the kb does not load."""
    try:
        merged = load_layers(agency.layers).kb
    except (KbValidationError, ValueError, OSError):
        return []
    return sorted((EntryOption(e.id, e.title) for e in merged.entries), key=lambda o: (o.title.casefold(), o.id))


def link_of(session: Session, ticket: Ticket) -> Optional[PhrasingSuggestion]:
    """The ticket's link, if an agent made one."""
    return session.scalars(select(PhrasingSuggestion).where(PhrasingSuggestion.ticket_id == ticket.id)).first()


def link(session: Session, ticket: Ticket, faq_id: Optional[str], agent: str, known: Sequence[str]) -> \
        PhrasingSuggestion:
    """Record which entry answers the ticket (``faq_id`` None: no entry fits) and log it on the ticket.

    A link an editor has not decided yet is replaced; one already accepted or rejected stays.

    Raises:
        SuggestionError: ``faq_id`` is not an entry of the ticket's agency, or the link is already decided.
    """
    if faq_id is not None and faq_id not in known:
        raise SuggestionError(f"Den Eintrag „{faq_id}“ gibt es in der Wissensdatenbank dieser Behörde nicht.")
    row = link_of(session, ticket)
    if row is not None and row.status in (ACCEPTED, REJECTED):
        raise SuggestionError("Die Redaktion hat über diese Verknüpfung schon entschieden.")
    if row is None:
        row = PhrasingSuggestion(ticket_id=ticket.id, agency=ticket.agency, question=ticket.question)
        session.add(row)
    row.faq_id, row.status, row.linked_by, row.linked_at = faq_id, PENDING if faq_id else NO_ENTRY, agent, utcnow()
    row.outcome = None
    ticket.events.append(TicketEvent(actor=agent, kind=LINK_EVENT, data={"faq_id": faq_id}))
    session.commit()
    return row


def pending(session: Session, agency: Agency, agencies: Agencies) -> List[Tuple[PhrasingSuggestion, Ticket]]:
    """Undecided phrasings of one agency's tickets, oldest first, each with its ticket."""
    query = select(PhrasingSuggestion, Ticket).join(Ticket, Ticket.id == PhrasingSuggestion.ticket_id).where(
        PhrasingSuggestion.status == PENDING).order_by(PhrasingSuggestion.linked_at, PhrasingSuggestion.id)
    return [(s, t) for s, t in session.execute(query).all() if agency_for(agencies, s.agency).key == agency.key]


def entry_file(agency: Agency, faq_id: str) -> Tuple[Path, Path]:
    """The kb file that holds the live version of ``faq_id`` and its layer directory.

    Raises:
        SuggestionError: the kb does not load, or the entry is gone.
    """
    try:
        layered = load_layers(agency.layers)
    except KbValidationError as err:
        raise SuggestionError(f"Die Wissensdatenbank ist gerade ungültig ({err.issues[0]}); bitte zuerst den "
                              "Prüfbericht abarbeiten.") from None
    entry = layered.kb.by_id().get(faq_id)
    if entry is None:
        raise SuggestionError(f"Den Eintrag „{faq_id}“ gibt es nicht mehr; bitte die Formulierung ablehnen.")
    layer = agency.layers[layered.origin[faq_id]]
    return layer / entry.path, layer


def accept(session: Session, suggestion: PhrasingSuggestion, agencies: Agencies, editor: str,
           display_name: str, email: Optional[str] = None) -> PhrasingSuggestion:
    """Add the suggestion's question to its entry's kb file (committed if the kb is a git repository).

    Raises:
        SuggestionError: not pending, the entry or file is gone, the edited file would be invalid, or git refused
            (the file is then as it was; the reason is kept in ``outcome``).
    """
    if suggestion.status != PENDING or not suggestion.faq_id:
        raise SuggestionError("Über diese Formulierung ist schon entschieden.")
    agency = agency_for(agencies, suggestion.agency)
    with _WRITING:
        try:
            path, layer = entry_file(agency, suggestion.faq_id)
            before = path.read_bytes()
            edit = add_phrasing(path, suggestion.question, layer)
            commit = None
            if edit.added:
                name, address = editor_identity(editor, display_name, email)
                try:
                    commit = commit_file(path, f"kb: Formulierung für {edit.entry_id} aus Fall "
                                               f"#{suggestion.ticket_id} übernommen", name, address)
                except (KbCommitError, OSError):
                    path.write_bytes(before)
                    raise
        except (SuggestionError, PhrasingError, KbCommitError) as err:
            suggestion.outcome = str(err)
            session.commit()
            raise SuggestionError(str(err)) from None
    suggestion.status, suggestion.decided_by, suggestion.decided_at = ACCEPTED, editor, utcnow()
    suggestion.outcome = (f"Commit {commit}" if commit else "in die Datei geschrieben") if edit.added else \
        "war schon vorhanden"
    session.commit()
    return suggestion


def reject(session: Session, suggestion: PhrasingSuggestion, editor: str) -> PhrasingSuggestion:
    """Mark a pending suggestion rejected (the kb is not touched).

    Raises:
        SuggestionError: the suggestion is not pending.
    """
    if suggestion.status != PENDING:
        raise SuggestionError("Über diese Formulierung ist schon entschieden.")
    suggestion.status, suggestion.decided_by, suggestion.decided_at = REJECTED, editor, utcnow()
    session.commit()
    return suggestion


def titles(agency: Agency) -> Dict[str, str]:
    """Entry id -> title for the agency (empty if its kb does not load)."""
    return {option.id: option.title for option in entry_options(agency)}
