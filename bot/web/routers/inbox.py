"""The agent inbox at ``/inbox``: queue, ticket detail with actions (server-rendered HTML).

The analytics pages are in :mod:`bot.web.routers.inbox_analytics`.

Agents see and change only tickets of their departments (others answer 404); managers see all.
Every form is a POST with the session's CSRF token (see :mod:`bot.web.routers.inbox_auth`) and
redirects back (303); every view of a ticket is written to its audit log.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Dict, List, Optional

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from bot.config.agencies import Agencies
from bot.notifications.replies import reply_states
from bot.staff.auth import aware, can_edit, list_agents
from bot.tickets import dead_letters, service
from bot.tickets.live import live_state
from bot.tickets.models import STATUSES, Ticket, TicketEvent, utcnow
from bot.tickets.schemas import CASE_NUMBER, ReplyIn
from bot.web.deps import AgenciesDep, ReplyHookDep, services_of
from bot.web.markdown import render_markdown
from bot.web.routers.inbox_access import visible_ticket
from bot.web.routers.inbox_auth import (
    STATUS_LABELS,
    CheckedLogin,
    CurrentLogin,
    Db,
    Login,
    departments_of,
    render,
    templates,
)
from bot.web.routers.inbox_canned import ticket_canned
from bot.web.routers.inbox_dead_letters import alert as dead_letter_alert
from bot.web.routers.inbox_dead_letters import router as dead_letter_router
from bot.web.routers.suggestions import link_context
from bot.web.transcript import view_lines
from bot.web.wording import count_noun

router = APIRouter(prefix="/inbox", include_in_schema=False)
QUEUE_LIMIT = 500
templates.env.filters.update(markdown=render_markdown, anzahl=count_noun)  # replies as in the widget; "1 Ticket"
STATUS_FILTERS = {"open": "Offen (alle außer Erledigt)", **STATUS_LABELS, "all": "Alle"}
LANGUAGES = {"de": "Deutsch", "en": "Englisch"}
ACTOR_LABELS = {"citizen": "Bürgerin/Bürger", "bot": "Assistent", "system": "System", "api": "Schnittstelle"}
REASON_LABELS = {"low_confidence": "Antwort zu unsicher", "asked_for_human": "Wunsch nach persönlichem Kontakt",
                 "not_helpful": "Antwort half nicht", "choices_rejected": "Vorschläge abgelehnt",
                 "repeated_miss": "Mehrfach nicht verstanden", "no_candidates": "Keine passende Antwort"}
FLASH = {"uebernommen": "Sie haben das Ticket übernommen.", "status": "Der Status wurde geändert.",
         "antwort": "Die Antwort wurde gesendet.", "notiz": "Die Notiz wurde gespeichert.",
         "zurueck": "Das Gespräch führt wieder der Assistent.", "leer": "Bitte geben Sie einen Text ein.",
         "zu_lang": "Der Text ist zu lang (höchstens 5000 Zeichen).", "ungueltig": "Ungültige Auswahl.",
         "notiz_fehlt": "Bitte begründen Sie die Übergabe in einer Notiz.", "uebergeben": "Ticket übergeben.",
         "verknuepft": "Der passende FAQ-Eintrag ist vermerkt; die Redaktion prüft die Formulierung.",
         "kein_eintrag": "Vermerkt: kein FAQ-Eintrag passt."}
MAX_TEXT = 5000
CANNED_INSERTED = "Der Textbaustein steht im Antwortfeld. Prüfen Sie den Text und senden Sie ihn dann ab."


def _flash(code: str, case: str = "", to: str = "", request: Optional[Request] = None) -> str:
    """The banner for a redirect's ``meldung``: fixed texts only, never text from the URL.

    A link from anyone can carry ``?meldung=uebergeben&an=...``; the department is named only when ``an`` is a
    configured department's key (its configured name is shown), the case only when it is a case number.
    """
    if code == "uebergeben" and re.fullmatch(CASE_NUMBER, case) and request is not None:
        departments = departments_of(request)
        if to in departments.keys():
            return f"Ticket {case} wurde übergeben. Zuständig ist jetzt: {departments.name(to)}."
    return FLASH.get(code, "")


def _visible_ticket(db: Session, login: Login, case: str) -> Ticket:
    """The ticket if it is in the agent's departments and agencies; 404 otherwise (see :func:`visible_ticket`)."""
    return visible_ticket(db, login, case)


def _back(case: str, code: str) -> RedirectResponse:
    return RedirectResponse(f"/inbox/tickets/{case}?meldung={code}", status_code=status.HTTP_303_SEE_OTHER)


def _allowed_departments(request: Request, login: Login) -> List[str]:
    return departments_of(request).keys() if login.agent.is_manager else list(login.agent.departments or [])


def _age(ticket: Ticket) -> str:
    minutes = max(0, int((utcnow() - aware(ticket.created_at)).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} Min."
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} Std. {minutes} Min."
    days, hours = divmod(hours, 24)
    return f"{days} Tg. {hours} Std."


def _excerpt(text: str, limit: int = 120) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@router.get("", response_class=HTMLResponse)
def queue(request: Request, login: CurrentLogin, db: Db,
          status_filter: Annotated[str, Query(alias="status", max_length=20)] = "open",
          department: Annotated[str, Query(max_length=60)] = "",
          topic: Annotated[str, Query(max_length=120)] = "",
          language: Annotated[str, Query(max_length=2)] = "",
          meldung: Annotated[str, Query(max_length=20)] = "", fall: Annotated[str, Query(max_length=20)] = "",
          an: Annotated[str, Query(max_length=60)] = "") -> Response:
    """Tickets of the agent's departments, oldest first, with filters and the number waiting.

    An editor without departments has no queue and is sent to the editor pages.
    """
    if not login.agent.is_manager and not login.agent.departments:
        return RedirectResponse("/inbox/editor", status_code=status.HTTP_303_SEE_OTHER)
    names = departments_of(request)
    allowed = _allowed_departments(request, login)
    status_filter = status_filter if status_filter in STATUS_FILTERS else "open"
    department = department if department in allowed else ""
    language = language if language in LANGUAGES else ""
    scope = login.tickets.narrowed(department) if department else login.tickets
    topics = sorted({service.topic_of(t) for t in service.list_tickets(db, None, 1000, login.tickets)} - {""})
    tickets = service.list_tickets(db, None if status_filter == "all" else status_filter, QUEUE_LIMIT, scope,
                                   language or None, topic or None)
    agents = {a.username: a.display_name for a in list_agents(db)}
    live = live_state(db, login.tickets, login.agent.username)["tickets"]
    unread = {case for case, mark in live.items() if mark["u"]}
    rows = [{"case": t.case_number, "unread": t.case_number in unread, "age": _age(t), "created_at": t.created_at,
             "department": names.name(t.department), "topic": service.topic_of(t) or "–", "language": t.language,
             "status": STATUS_LABELS.get(t.status, t.status), "status_key": t.status,
             "assignee": agents.get(t.assignee or "", t.assignee or "–"),
             "excerpt": _excerpt(t.question)} for t in tickets]
    context = {"active": "queue", "rows": rows, "waiting": service.waiting_count(db, login.tickets),
               "filters": {"status": status_filter, "department": department, "topic": topic, "language": language},
               "status_options": STATUS_FILTERS, "department_options": [(k, names.name(k)) for k in allowed],
               "topic_options": topics, "language_options": LANGUAGES, "limit": QUEUE_LIMIT,
               "flash": _flash(meldung, fall, an, request),
               "dead_letters": dead_letter_alert(dead_letters.count(db)) if login.agent.is_manager else ""}
    return render(request, "inbox/queue.html", context, login)


def _actor(actor: str, agents: Dict[str, str]) -> str:
    return ACTOR_LABELS.get(actor) or agents.get(actor, actor)


def _event_summary(event: TicketEvent, request: Request, agents: Dict[str, str]) -> str:
    data: Dict[str, Any] = event.data if isinstance(event.data, dict) else {}
    names = departments_of(request)
    before, after = STATUS_LABELS.get(str(data.get("from")), "–"), STATUS_LABELS.get(str(data.get("to")), "–")
    summaries = {
        "created": f"Ticket angelegt ({REASON_LABELS.get(str(data.get('reason')), str(data.get('reason', '')))}), "
                   f"Abteilung {names.name(data.get('department'))}",
        "status": f"Status: {before} → {after}",
        "assigned": f"Übernommen von {_actor(str(data.get('assignee', event.actor)), agents)}",
        "transferred": f"Übergeben: {names.name(data.get('from')) or '–'} → {names.name(data.get('to'))}",
        "note": "Interne Notiz", "reply": "Antwort an die anfragende Person",
        "handed_back": "Gespräch an den Assistenten zurückgegeben",
        "citizen_message": "Nachricht der anfragenden Person",
        "notified": "Per E-Mail benachrichtigt",
        "notify_failed": f"E-Mail-Benachrichtigung abgelehnt (Mailserver: {data.get('code') or '–'})",
        "delivered": "An das Fachverfahren übermittelt",
        "faq_linked": f"Passender FAQ-Eintrag: {data.get('faq_id') or 'keiner passt'}",
        "dead_letter": "Fehlgeschlagene Zustellung erneut angestoßen" if data.get("action") == "retry"
                       else "Fehlgeschlagene Zustellung verworfen",
    }
    return summaries.get(event.kind, event.kind)


@router.get("/tickets/{case}", response_class=HTMLResponse)
def ticket_detail(case: str, request: Request, login: CurrentLogin, db: Db, agencies: AgenciesDep,
                  meldung: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    """One ticket: transcript, candidates, contact, history and the actions; the view is audit-logged."""
    ticket = _visible_ticket(db, login, case)
    return _ticket_page(request, login, db, agencies, ticket, FLASH.get(meldung, ""),
                        meldung in ("leer", "zu_lang", "ungueltig", "notiz_fehlt"))


@router.post("/tickets/{case}/insert", response_class=HTMLResponse)
def insert_canned(case: str, request: Request, login: CheckedLogin, db: Db, agencies: AgenciesDep,
                  text: Annotated[str, Form(max_length=MAX_TEXT * 2)] = "",
                  chosen: Annotated[str, Form(alias="baustein", max_length=20)] = "") -> HTMLResponse:
    """Without JavaScript: the page again with the chosen canned reply added to the text typed so far (not sent)."""
    ticket = _visible_ticket(db, login, case)
    options = {str(o["id"]): o for o in ticket_canned(db, ticket, login, departments_of(request))}
    if chosen not in options:
        return _ticket_page(request, login, db, agencies, ticket, "Bitte wählen Sie einen Textbaustein.", True,
                            draft=text, status_code=status.HTTP_400_BAD_REQUEST)
    draft = (text.rstrip() + "\n\n" if text.strip() else "") + str(options[chosen]["text"])
    return _ticket_page(request, login, db, agencies, ticket, CANNED_INSERTED, False, draft=draft, chosen=chosen)


def _ticket_page(request: Request, login: Login, db: Session, agencies: Agencies, ticket: Ticket, flash: str,
                 error: bool, draft: str = "", chosen: str = "", status_code: int = 200) -> HTMLResponse:
    """The ticket page (audit-logged as a read); ``draft`` fills the reply box."""
    service.record_read(db, ticket, login.agent.username)
    names = departments_of(request)
    agents = {a.username: a.display_name for a in list_agents(db)}
    history = [{"at": e.at, "actor": _actor(e.actor, agents), "summary": _event_summary(e, request, agents),
                "text": e.text, "kind": e.kind} for e in ticket.events if e.kind != "read"]
    reads = [{"at": e.at, "actor": _actor(e.actor, agents)} for e in ticket.events if e.kind == "read"]
    transcript = view_lines(ticket.transcript or [])
    candidates = [{"faq_id": c.get("faq_id"), "title": c.get("title"), "score": float(c.get("score") or 0.0),
                   "owner": c.get("owner") or "–", "department": names.name(names.for_owner(c.get("owner")))}
                  for c in ticket.candidates or []]
    context = {"ticket": ticket, "transcript": transcript, "candidates": candidates, "history": history,
               "reads": reads, "department": names.name(ticket.department), "topic": service.topic_of(ticket),
               "agency": _agency_name(agencies, ticket.agency),
               "status_label": STATUS_LABELS.get(ticket.status, ticket.status),
               "reason": REASON_LABELS.get(ticket.reason, ticket.reason),
               "assignee": agents.get(ticket.assignee or "", ticket.assignee),
               "language": LANGUAGES.get(ticket.language, ticket.language),
               "status_options": [(s, STATUS_LABELS[s]) for s in STATUSES],
               "transfer_options": [(k, names.name(k)) for k in names.keys() if k != ticket.department],
               "flash": flash, "error": error, "draft": draft, "canned": ticket_canned(db, ticket, login, names),
               "canned_chosen": chosen,
               "notices": reply_states(ticket, bool(services_of(request.app).settings.smtp_host)),
               "can_edit": can_edit(login.agent), "agency_key": ticket.agency or "",
               **link_context(db, ticket, agencies)}
    return render(request, "inbox/ticket.html", context, login, status_code=status_code)


def _agency_name(agencies: Agencies, key: Optional[str]) -> str:
    """The agency's name for a ticket, shown only where the deployment serves several agencies."""
    if len(agencies) < 2:
        return ""
    return agencies.by_key[key].name if key in agencies.by_key else (key or agencies.default.name)


@router.post("/tickets/{case}/assign")
def assign(case: str, login: CheckedLogin, db: Db) -> RedirectResponse:
    """Assign the ticket to me: in progress, and I hold the conversation."""
    service.assign(db, _visible_ticket(db, login, case), login.agent.username)
    return _back(case, "uebernommen")


@router.post("/tickets/{case}/status")
def change_status(case: str, login: CheckedLogin, db: Db,
                  new_status: Annotated[str, Form(alias="status", max_length=20)] = "") -> RedirectResponse:
    """Set the ticket's status."""
    ticket = _visible_ticket(db, login, case)
    if new_status not in STATUSES:
        return _back(case, "ungueltig")
    service.set_status(db, ticket, new_status, actor=login.agent.username)
    return _back(case, "status")


def _text(value: str) -> Optional[str]:
    """The stripped text, or the flash code for why it is refused."""
    text = (value or "").strip()
    return "leer" if not text else "zu_lang" if len(text) > MAX_TEXT else None


@router.post("/tickets/{case}/reply")
def reply(case: str, request: Request, login: CheckedLogin, db: Db, reply_stored: ReplyHookDep,
          text: Annotated[str, Form()] = "") -> RedirectResponse:
    """Answer the citizen (the ticket then waits for them); the reply hook delivers it."""
    ticket = _visible_ticket(db, login, case)
    if (problem := _text(text)) is not None:
        return _back(case, problem)
    author = f"{login.agent.display_name}, {departments_of(request).name(ticket.department)}"[:120]
    try:
        data = ReplyIn(author=author, text=text.strip())
    except ValidationError:
        return _back(case, "ungueltig")
    stored = service.add_reply(db, ticket, data, actor=login.agent.username)
    reply_stored(db, ticket, stored)
    return _back(case, "antwort")


@router.post("/tickets/{case}/note")
def note(case: str, login: CheckedLogin, db: Db, text: Annotated[str, Form()] = "") -> RedirectResponse:
    """Add an internal note (never shown to the citizen)."""
    ticket = _visible_ticket(db, login, case)
    if (problem := _text(text)) is not None:
        return _back(case, problem)
    service.add_note(db, ticket, login.agent.username, text.strip())
    return _back(case, "notiz")


@router.post("/tickets/{case}/transfer")
def transfer(case: str, request: Request, login: CheckedLogin, db: Db,
             department: Annotated[str, Form(max_length=60)] = "",
             text: Annotated[str, Form(alias="note")] = "") -> RedirectResponse:
    """Move the ticket to another department with a note; back to the queue if I can no longer see it."""
    ticket = _visible_ticket(db, login, case)
    if department not in departments_of(request).by_key or department == ticket.department:
        return _back(case, "ungueltig")
    if _text(text) is not None:
        return _back(case, "notiz_fehlt")
    service.transfer(db, ticket, department, login.agent.username, text.strip(), departments_of(request))
    if login.can_see(department):
        return _back(case, "uebergeben")
    return RedirectResponse(f"/inbox?meldung=uebergeben&fall={case}&an={department}",
                            status_code=status.HTTP_303_SEE_OTHER)


@router.post("/tickets/{case}/hand-back")
def hand_back(case: str, login: CheckedLogin, db: Db) -> RedirectResponse:
    """Give the conversation back to the bot."""
    service.hand_back(db, _visible_ticket(db, login, case), login.agent.username)
    return _back(case, "zurueck")


router.include_router(dead_letter_router)  # /inbox/zustellungen
