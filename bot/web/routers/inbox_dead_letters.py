"""The dead-letter page at ``/inbox/zustellungen``: deliveries that failed for good, for managers.

Lists helpdesk deliveries the receiver rejected (or that ran out of attempts) and e-mail notifications the mail
server refused (:mod:`bot.tickets.dead_letters`): kind, case number, when and the redacted error, never an e-mail's
text or address. "Erneut versuchen" and "Verwerfen" are POST forms with the session's CSRF token; each is written to
the ticket's history with the manager's name. The queue shows managers an alert while there are dead letters.
"""

from __future__ import annotations

from typing import Annotated, Dict

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from bot.tickets import dead_letters
from bot.web.routers.inbox_auth import CheckedLogin, CurrentLogin, Db, Login, render

router = APIRouter(include_in_schema=False)  # included by the inbox's router (prefix /inbox)
PATH = "/inbox/zustellungen"
ROUTE = "/zustellungen"
KIND_LABELS = {dead_letters.HELPDESK: "Weitergabe an das Ticketsystem",
               dead_letters.NOTIFICATION: "E-Mail-Benachrichtigung"}
FLASH: Dict[str, str] = {
    "erneut": "Die Zustellung wird erneut versucht.",
    "verworfen": "Die Zustellung wurde verworfen und wird nicht mehr versucht.",
    "weg": "Diese Zustellung gibt es nicht mehr; vielleicht hat sie schon jemand anderes bearbeitet.",
}


def alert(count: int) -> str:
    """The queue's alert for managers: ``3 Zustellungen sind endgültig fehlgeschlagen.``; '' for none."""
    if count <= 0:
        return ""
    return f"{count} Zustellung ist endgültig fehlgeschlagen." if count == 1 else \
        f"{count} Zustellungen sind endgültig fehlgeschlagen."


def _manager(login: Login) -> Login:
    if not login.agent.is_manager:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Fehlgeschlagene Zustellungen sieht nur die Leitung.")
    return login


@router.get(ROUTE, response_class=HTMLResponse)
def dead_letter_page(request: Request, login: CurrentLogin, db: Db,
                     meldung: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    """Every dead letter, newest first, with the two buttons; other agents get a 403 page that says why."""
    if not login.agent.is_manager:
        return render(request, "inbox/dead_letters.html", {"active": "dead_letters", "forbidden": True}, login,
                      status_code=status.HTTP_403_FORBIDDEN)
    rows = [{"ref": letter.ref, "kind": KIND_LABELS.get(letter.kind, letter.kind), "target": letter.target,
             "case": letter.case_number, "at": letter.at, "error": letter.error}
            for letter in dead_letters.dead_letters(db)]
    return render(request, "inbox/dead_letters.html",
                  {"active": "dead_letters", "rows": rows, "flash": FLASH.get(meldung, ""),
                   "error": meldung == "weg"}, login)


def _act(ref: str, login: Login, db: Db, retry: bool) -> RedirectResponse:
    _manager(login)
    try:
        (dead_letters.retry if retry else dead_letters.discard)(db, ref, login.agent.username)
        code = "erneut" if retry else "verworfen"
    except dead_letters.DeadLetterGone:
        code = "weg"
    return RedirectResponse(f"{PATH}?meldung={code}", status_code=status.HTTP_303_SEE_OTHER)


@router.post(ROUTE + "/erneut")
def retry(login: CheckedLogin, db: Db, ref: Annotated[str, Form(max_length=40)] = "") -> RedirectResponse:
    """Try the dead letter ``ref`` again."""
    return _act(ref, login, db, retry=True)


@router.post(ROUTE + "/verwerfen")
def discard(login: CheckedLogin, db: Db, ref: Annotated[str, Form(max_length=40)] = "") -> RedirectResponse:
    """Give the dead letter ``ref`` up for good."""
    return _act(ref, login, db, retry=False)
