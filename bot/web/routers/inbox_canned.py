"""Canned replies in the inbox: the managers' pages at ``/inbox/canned-replies`` and the insert on a ticket page.

A thin adapter over :mod:`bot.staff.canned`. Managers list, create, change and delete the texts of every
department (others get 403); invalid input comes back with the problem next to its field (400) and nothing is
saved; each change is audited. On a ticket page the agent picks one of the department's texts (placeholders
filled for that ticket): with JavaScript it is inserted at the cursor (``canned.js``), without it "Einfügen"
posts the reply form to ``/inbox/tickets/{case}/insert``, which shows the page again with the text added to what
was already typed. Nothing is sent until the agent presses "Antwort senden".
"""

from __future__ import annotations

from typing import Annotated, Any, Dict, List, Optional

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.staff import canned
from bot.staff.auth import list_agents
from bot.staff.canned import CannedReplyError
from bot.staff.models import CannedReply
from bot.tickets import service
from bot.tickets.departments import Departments
from bot.tickets.models import Ticket
from bot.web.deps import DepartmentsDep
from bot.web.routers.inbox_auth import CheckedLogin, CurrentLogin, Db, Login, render

router = APIRouter(prefix="/inbox", include_in_schema=False)
ERRORS = {"department": "Bitte wählen Sie eine Abteilung aus der Liste.",
          "title": "Bitte geben Sie einen Titel mit 1 bis 120 Zeichen ein, z. B. „Termin vereinbaren“.",
          "body_empty": "Bitte geben Sie den Text der Antwort ein.",
          "body_long": f"Der Text darf höchstens {canned.MAX_BODY} Zeichen haben.",
          "unknown_placeholder": "Unbekannter Platzhalter {name}. Möglich sind: {known}. Ein Platzhalter steht in "
                                 "geschweiften Klammern, z. B. {{fallnummer}}."}
FLASH = {"angelegt": "Der Textbaustein wurde angelegt.", "gespeichert": "Die Änderungen wurden gespeichert.",
         "unveraendert": "Es gab nichts zu ändern.", "geloescht": "Der Textbaustein wurde gelöscht."}
ACTION_LABELS = {"canned_created": "Angelegt", "canned_updated": "Geändert", "canned_removed": "Gelöscht"}
FIELD_LABELS = {"department": "Abteilung", "title": "Titel", "body": "Text"}
Text = Annotated[str, Form(max_length=canned.MAX_BODY * 2)]


def _refused(request: Request, login: Login) -> Optional[HTMLResponse]:
    """A 403 page for everyone but managers."""
    if login.agent.is_manager:
        return None
    return render(request, "inbox/accounts_forbidden.html", {"active": ""}, login,
                  status_code=status.HTTP_403_FORBIDDEN)


def _message(err: CannedReplyError, body: str) -> str:
    unknown = canned.unknown_placeholders(body)
    known = ", ".join(f"{{{name}}}" for name in canned.PLACEHOLDERS)
    return ERRORS[err.code].format(name=f"{{{unknown[0]}}}" if unknown else "", known=known)


def _audit(db: Session, names: Departments) -> List[Dict[str, Any]]:
    agents = {a.username: a.display_name for a in list_agents(db)}
    rows = []
    for entry in canned.audit_log(db):
        detail: Dict[str, Any] = entry.detail if isinstance(entry.detail, dict) else {}
        changed = [FIELD_LABELS.get(f, f) for f in str(detail.get("changed") or "").split(",") if f]
        rows.append({"at": entry.at, "actor": agents.get(entry.actor, entry.actor),
                     "action": ACTION_LABELS.get(entry.action, entry.action), "title": detail.get("title", ""),
                     "department": names.name(detail.get("department")),
                     "changed": ", ".join(changed)})
    return rows


def _page(request: Request, login: Login, db: Session, names: Departments, *, editing: Optional[CannedReply] = None,
          form: Optional[Dict[str, str]] = None, errors: Optional[Dict[str, str]] = None, flash: str = "",
          status_code: int = 200) -> HTMLResponse:
    """The overview with the form (new, or the one being edited) and the latest changes."""
    rows = [{"id": r.id, "department": names.name(r.department), "title": r.title, "body": r.body,
             "updated_at": r.updated_at} for r in canned.for_departments(db, None)]
    if form is None:
        form = ({"department": editing.department, "title": editing.title, "body": editing.body} if editing
                else {"department": "", "title": "", "body": ""})
    context = {"active": "canned", "rows": rows, "editing": editing, "form": form, "errors": errors or {},
               "department_options": [(k, names.name(k)) for k in names.keys()],
               "placeholders": canned.PLACEHOLDERS, "audit": _audit(db, names), "flash": flash,
               "error": bool(errors)}
    return render(request, "inbox/canned.html", context, login, status_code=status_code)


def _row(db: Session, reply_id: int) -> CannedReply:
    row = canned.get(db, reply_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Keinen Textbaustein {reply_id}")
    return row


def _done(code: str) -> RedirectResponse:
    return RedirectResponse(f"/inbox/canned-replies?meldung={code}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/canned-replies", response_class=HTMLResponse)
def canned_page(request: Request, login: CurrentLogin, db: Db, names: DepartmentsDep,
                meldung: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    """Every department's canned replies, the form for a new one and the latest changes."""
    if (refused := _refused(request, login)) is not None:
        return refused
    return _page(request, login, db, names, flash=FLASH.get(meldung, ""))


@router.post("/canned-replies", response_class=HTMLResponse)
def create_canned(request: Request, login: CheckedLogin, db: Db, names: DepartmentsDep,
                  department: Annotated[str, Form(max_length=60)] = "",
                  title: Annotated[str, Form(max_length=500)] = "", body: Text = "") -> Response:
    """Create a canned reply; invalid input comes back with the problems next to the fields."""
    if (refused := _refused(request, login)) is not None:
        return refused
    errors = _problems(department, title, body, names)
    if not errors:
        canned.create(db, department, title, body, login.agent.username, names)
        return _done("angelegt")
    return _page(request, login, db, names, form={"department": department, "title": title, "body": body},
                 errors=errors, status_code=status.HTTP_400_BAD_REQUEST)


def _problems(department: str, title: str, body: str, names: Departments) -> Dict[str, str]:
    """Every field's problem at once (German), empty when all is well."""
    errors: Dict[str, str] = {}
    for check in (lambda: canned.check_department(department, names), lambda: canned.check_title(title),
                  lambda: canned.check_body(body)):
        try:
            check()
        except CannedReplyError as err:
            errors[err.field] = _message(err, body)
    return errors


@router.get("/canned-replies/{reply_id}", response_class=HTMLResponse)
def edit_canned_page(reply_id: int, request: Request, login: CurrentLogin, db: Db,
                     names: DepartmentsDep) -> HTMLResponse:
    """The overview with one canned reply's form to change or delete it."""
    if (refused := _refused(request, login)) is not None:
        return refused
    return _page(request, login, db, names, editing=_row(db, reply_id))


@router.post("/canned-replies/{reply_id}", response_class=HTMLResponse)
def update_canned(reply_id: int, request: Request, login: CheckedLogin, db: Db, names: DepartmentsDep,
                  department: Annotated[str, Form(max_length=60)] = "",
                  title: Annotated[str, Form(max_length=500)] = "", body: Text = "") -> Response:
    """Change a canned reply."""
    if (refused := _refused(request, login)) is not None:
        return refused
    row = _row(db, reply_id)
    errors = _problems(department, title, body, names)
    if errors:
        return _page(request, login, db, names, editing=row,
                     form={"department": department, "title": title, "body": body}, errors=errors,
                     status_code=status.HTTP_400_BAD_REQUEST)
    changed = canned.update(db, row, department, title, body, login.agent.username, names)
    return _done("gespeichert" if changed else "unveraendert")


@router.post("/canned-replies/{reply_id}/remove")
def remove_canned(reply_id: int, request: Request, login: CheckedLogin, db: Db) -> Response:
    """Delete a canned reply."""
    if (refused := _refused(request, login)) is not None:
        return refused
    canned.remove(db, _row(db, reply_id), login.agent.username)
    return _done("geloescht")


def ticket_canned(db: Session, ticket: Ticket, login: Login, names: Departments) -> List[Dict[str, Any]]:
    """The ticket's department's canned replies with the placeholders filled for this ticket."""
    values = {"fallnummer": ticket.case_number, "abteilung": names.name(ticket.department),
              "mitarbeiter": login.agent.display_name, "thema": service.topic_of(ticket) or ""}
    return [{"id": r.id, "title": r.title, "text": canned.fill(r.body, values)}
            for r in canned.for_departments(db, [ticket.department or ""])]
