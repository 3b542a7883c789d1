"""``/fall``: a citizen looks up the answer to their case with the case number (no login)."""

from __future__ import annotations

import re
from datetime import tzinfo
from typing import Any, Dict, Optional

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bot.tickets import service
from bot.web.deps import DbDep, DepartmentsDep, LimitsDep
from bot.web.ratelimit import address_key
from bot.web.routers.inbox_auth import format_time, local_tz
from bot.web.routers.pages import TEMPLATES

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(TEMPLATES))
CASE = re.compile(r"^AK-[0-9A-Z]{4}-[0-9A-Z]{4}$")
STATUS_TEXT = {"new": "eingegangen, noch nicht bearbeitet", "in_progress": "in Bearbeitung",
               "waiting": "beantwortet", "resolved": "erledigt"}


@router.get("/fall", response_class=HTMLResponse)
def case_form(request: Request) -> HTMLResponse:
    """The lookup form."""
    return _no_store(templates.TemplateResponse(request, "site/case.html",
                                                {"case": None, "error": None, "number": ""}))


@router.post("/fall", response_class=HTMLResponse)
def case_lookup(request: Request, session: DbDep, departments: DepartmentsDep, limits: LimitsDep,
                number: str = Form("", max_length=40)) -> HTMLResponse:
    """Show the case's status and the staff's replies (never the transcript)."""
    number = number.strip().upper().replace(" ", "")
    context: Dict[str, Any] = {"case": None, "error": None, "number": number}
    status_code = 200
    headers: Dict[str, str] = {}
    decision = limits.lookup(address_key(limits, request))
    if not decision.allowed:
        minutes = round(decision.retry_after / 60)
        wait = f"{minutes} Minuten" if minutes > 1 else "einer Minute"
        context["error"] = f"Zu viele Abfragen. Bitte versuchen Sie es in {wait} erneut."
        status_code = 429
        headers["Retry-After"] = decision.retry_after_header
    elif not CASE.match(number):
        context["error"] = ("Bitte geben Sie die Fallnummer so ein, wie der Assistent sie genannt hat, "
                            "z. B. AK-7KQ2-M9XD.")
        status_code = 400
    else:
        ticket = service.get_ticket(session, number)
        if ticket is None:
            context["error"] = f"Zur Fallnummer {number} haben wir nichts gefunden. Bitte prüfen Sie die Eingabe."
            status_code = 404
        else:
            context["case"] = _view(ticket, departments.name(ticket.department), local_tz(request))
    return _no_store(templates.TemplateResponse(request, "site/case.html", context, status_code=status_code,
                                                headers=headers))


def _no_store(response: HTMLResponse) -> HTMLResponse:
    """A case's status and replies are personal: no browser or proxy may keep a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _view(ticket: Any, department: str, tz: tzinfo) -> Dict[str, Optional[Any]]:
    """The case as the citizen sees it; reply times in the agency's time zone (``timezone`` setting)."""
    return {"number": ticket.case_number, "status": STATUS_TEXT.get(ticket.status, ticket.status),
            "department": department, "question": ticket.question,
            "replies": [{"author": r.author, "text": r.text, "at": format_time(r.created_at, tz)}
                        for r in ticket.replies]}
