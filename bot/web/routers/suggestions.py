"""Learning from handoffs: agents link a ticket to the FAQ entry that answers it, editors accept the phrasing.

``POST /inbox/tickets/{case}/link`` (agents, on the ticket page) stores the link; the editors' page
``/inbox/editor/suggestions`` lists the pending phrasings of one agency with Accept / Reject (POST with the
session's CSRF token). Accept writes the ticket's question into the entry's kb file and commits it (see
:mod:`bot.suggestions.service`); the kb watcher publishes the new index without retraining.
"""

from __future__ import annotations

from typing import Annotated, Any, Dict, List

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.config.agencies import Agencies
from bot.suggestions import service
from bot.suggestions.models import PhrasingSuggestion
from bot.tickets.models import Ticket
from bot.web.deps import AgenciesDep
from bot.web.routers.editor import AgencyKey, _agency_context, agency_of
from bot.web.routers.inbox_access import editor_gate, visible_ticket
from bot.web.routers.inbox_auth import CheckedLogin, CurrentLogin, Db, Login, render

router = APIRouter(include_in_schema=False)
EDITOR = [Depends(editor_gate)]  # the editor routes: role and agency (the ticket link is for agents)
NONE = "__kein__"  # the form's value for "no entry fits"
FLASH = {"uebernommen": "Die Formulierung wurde in den Eintrag übernommen.",
         "vorhanden": "Der Eintrag hatte diese Formulierung schon; nichts geändert.",
         "abgelehnt": "Die Formulierung wurde abgelehnt."}


def link_context(db: Db, ticket: Ticket, agencies: Agencies) -> Dict[str, Any]:
    """What the ticket page needs for its "matching FAQ entry" form: the link, candidates first, then the rest."""
    options = service.entry_options(service.agency_for(agencies, ticket.agency))
    by_id = {o.id: o for o in options}
    first = [by_id[i] for i in dict.fromkeys(str(c.get("faq_id")) for c in ticket.candidates or []) if i in by_id]
    chosen = {o.id for o in first}
    row = service.link_of(db, ticket)
    return {"link": row, "link_title": by_id[row.faq_id].title if row and row.faq_id in by_id else "",
            "link_first": first, "link_rest": [o for o in options if o.id not in chosen], "link_none": NONE}


@router.post("/inbox/tickets/{case}/link")
def link(case: str, login: CheckedLogin, db: Db, agencies: AgenciesDep,
         faq_id: Annotated[str, Form(max_length=80)] = "") -> RedirectResponse:
    """Record the entry that answers the ticket (or that none does); the question becomes a pending phrasing."""
    ticket = visible_ticket(db, login, case)
    known = [o.id for o in service.entry_options(service.agency_for(agencies, ticket.agency))]
    if not faq_id:
        code = "ungueltig"
    else:
        try:
            service.link(db, ticket, None if faq_id == NONE else faq_id, login.agent.username, known)
            code = "kein_eintrag" if faq_id == NONE else "verknuepft"
        except service.SuggestionError:
            code = "ungueltig"
    return RedirectResponse(f"/inbox/tickets/{case}?meldung={code}", status_code=status.HTTP_303_SEE_OTHER)


def _page(request: Request, login: Any, db: Db, agencies: Agencies, agency_key: str, flash: str = "",
          error: str = "", status_code: int = 200) -> HTMLResponse:
    agency = agency_of(agencies, agency_key)
    titles = service.titles(agency)
    rows: List[Dict[str, Any]] = [
        {"id": s.id, "question": s.question, "faq_id": s.faq_id, "title": titles.get(s.faq_id or "", ""),
         "agent": s.linked_by, "at": s.linked_at, "case": t.case_number, "problem": s.outcome}
        for s, t in service.pending(db, agency, agencies)]
    context = {"active": "editor-suggestions", "rows": rows, "flash": flash or error, "error": bool(error),
               **_agency_context(agencies, agency)}
    return render(request, "editor/suggestions.html", context, login, status_code=status_code)


@router.get("/inbox/editor/suggestions", response_class=HTMLResponse, dependencies=EDITOR)
def suggestions_page(request: Request, login: CurrentLogin, db: Db, agencies: AgenciesDep,
                     agency_key: AgencyKey = "",
                     meldung: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    """Pending phrasings of the agency's tickets: question, entry, agent, date, with Accept and Reject."""
    return _page(request, login, db, agencies, agency_key, FLASH.get(meldung, ""))


def _suggestion(db: Db, suggestion_id: int, login: Login, agencies: Agencies) -> PhrasingSuggestion:
    """The suggestion, if it belongs to one of the login's agencies (404 otherwise, as for an unknown id)."""
    found = db.get(PhrasingSuggestion, suggestion_id)
    if found is None or not login.serves(found.agency or agencies.default.key):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Kein Vorschlag {suggestion_id}")
    return found


def _done(agencies: Agencies, agency_key: str, code: str) -> RedirectResponse:
    agency = agency_of(agencies, agency_key)  # only a key this deployment serves goes into the address
    query = "" if agency.is_default else f"&agency={agency.key}"
    return RedirectResponse(f"/inbox/editor/suggestions?meldung={code}{query}", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/inbox/editor/suggestions/{suggestion_id}/accept", dependencies=EDITOR)
def accept(suggestion_id: int, request: Request, login: CheckedLogin, db: Db, agencies: AgenciesDep,
           agency_key: Annotated[str, Form(alias="agency", max_length=40)] = "") -> Response:
    """Write the phrasing into the entry's kb file (validated, committed); on failure the page says why (409)."""
    suggestion = _suggestion(db, suggestion_id, login, agencies)
    try:
        done = service.accept(db, suggestion, agencies, login.agent.username, login.agent.display_name,
                              getattr(login.agent, "email", None))
    except service.SuggestionError as err:
        return _page(request, login, db, agencies, agency_key, error=f"Nicht übernommen: {err}",
                     status_code=status.HTTP_409_CONFLICT)
    return _done(agencies, agency_key, "vorhanden" if done.outcome == "war schon vorhanden" else "uebernommen")


@router.post("/inbox/editor/suggestions/{suggestion_id}/reject", dependencies=EDITOR)
def reject(suggestion_id: int, request: Request, login: CheckedLogin, db: Db, agencies: AgenciesDep,
           agency_key: Annotated[str, Form(alias="agency", max_length=40)] = "") -> Response:
    """Mark the phrasing rejected; the kb is not touched."""
    try:
        service.reject(db, _suggestion(db, suggestion_id, login, agencies), login.agent.username)
    except service.SuggestionError as err:
        return _page(request, login, db, agencies, agency_key, error=f"Nicht abgelehnt: {err}",
                     status_code=status.HTTP_409_CONFLICT)
    return _done(agencies, agency_key, "abgelehnt")
