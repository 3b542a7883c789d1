"""Staff accounts in the inbox at ``/inbox/accounts``, for managers only (others get 403).

A thin adapter over :mod:`bot.staff.accounts`: the overview (name, departments, roles, state, open sessions), a form
to create an account, a page per account to change its name, departments and roles, to disable or enable it, to set
a new password and to end its sessions, and the latest 50 changes. Every form is a POST with the session's CSRF token;
invalid input is shown next to its field (400) and nothing is saved.
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, Dict, List, Optional

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.config.agencies import Agencies
from bot.staff import accounts
from bot.staff.accounts import AccountError
from bot.staff.auth import get_agent, list_agents
from bot.staff.models import Agent, StaffAudit
from bot.tickets.departments import Departments
from bot.web.deps import DepartmentsDep, services_of
from bot.web.routers import accounts_scope as scope
from bot.web.routers.inbox_access import manager_gate
from bot.web.routers.inbox_auth import CheckedLogin, CurrentLogin, Db, Login, render

router = APIRouter(prefix="/inbox/accounts", include_in_schema=False, dependencies=[Depends(manager_gate)])
ROLE_LABELS = {"manager": "Leitung", "editor": "Redaktion"}
ACTION_LABELS = {"created": "Konto angelegt", "updated": "Konto geändert", "disabled": "Konto deaktiviert",
                 "enabled": "Konto aktiviert", "password_reset": "Neues Passwort gesetzt",
                 "sessions_revoked": "Sitzungen beendet", "removed": "Konto gelöscht"}
ERRORS = {"username": "Bitte 3 bis 40 Zeichen aus a–z, 0–9, Punkt, Unterstrich und Bindestrich verwenden.",
          "taken": "Diesen Benutzernamen gibt es schon. Bitte wählen Sie einen anderen.",
          "display_name": "Bitte geben Sie einen Namen mit 1 bis 120 Zeichen ein, z. B. „Frau Weber“.",
          "password_short": "Das Passwort braucht mindestens 12 Zeichen.",
          "password_long": "Das Passwort darf höchstens 1024 Zeichen haben.",
          "password_differs": "Die beiden Passwörter stimmen nicht überein. Bitte geben Sie es zweimal gleich ein.",
          "unknown_department": "Bitte wählen Sie nur Abteilungen aus der Liste.",
          "no_department": "Bitte wählen Sie mindestens eine Abteilung oder eine Rolle (Leitung oder Redaktion).",
          "roles": "Bitte wählen Sie nur Rollen aus der Liste.",
          "last_manager": "Das ist die letzte aktive Leitung. Machen Sie zuerst ein anderes Konto zur Leitung.",
          "yourself": "Ihr eigenes Konto können Sie nicht deaktivieren oder löschen. Bitten Sie eine andere Leitung.",
          "not_confirmed": "Bitte bestätigen Sie das Löschen mit dem Häkchen.",
          "unknown_agency": "Bitte wählen Sie nur Behörden aus der Liste.",
          "no_agency": "Bitte wählen Sie mindestens eine Behörde, für die das Konto arbeitet.",
          "agency_and_all": "Bitte wählen Sie entweder einzelne Behörden oder „Alle Behörden“.",
          "agency_outside": "Diese Behörde verwalten Sie nicht. Bitte wählen Sie nur Ihre eigenen Behörden."}
FLASH = {"angelegt": "Das Konto wurde angelegt. Die Person kann sich jetzt anmelden.",
         "gespeichert": "Die Änderungen wurden gespeichert.", "unveraendert": "Es gab nichts zu ändern.",
         "deaktiviert": "Das Konto ist deaktiviert; seine Sitzungen sind beendet.",
         "aktiviert": "Das Konto ist wieder aktiv.",
         "passwort": "Das neue Passwort gilt ab sofort; alle Sitzungen des Kontos sind beendet.",
         "abgemeldet": "Alle Sitzungen des Kontos sind beendet.", "geloescht": "Das Konto wurde gelöscht."}
Names = Annotated[List[str], Form()]


def _message(code: str) -> str:
    return ERRORS.get(code) or FLASH.get(code, "")


def _problems(*checks: Callable[[], Any]) -> Dict[str, str]:
    """Run every check; the German message of each refusal by its field (so all are shown at once)."""
    errors: Dict[str, str] = {}
    for check in checks:
        try:
            check()
        except AccountError as err:
            errors.setdefault(err.field, _message(err.code))
    return errors


def _same(password: str, repeated: str) -> None:
    if password != repeated:
        raise AccountError("the passwords differ", "password", "password_differs")


def _taken(db: Session, username: str) -> None:
    if get_agent(db, username) is not None:
        raise AccountError("taken", "username", "taken")


def _row(row: accounts.AccountRow, names: Departments, agencies: Agencies) -> Dict[str, Any]:
    agent = row.agent
    return {"agencies": scope.label(agent, agencies), "username": agent.username,
            "display_name": agent.display_name, "active": bool(agent.active),
            "departments": ", ".join(names.name(k) for k in agent.departments or []) or "–",
            "roles": ", ".join(ROLE_LABELS[r] for r in row.roles) or "–", "sessions": row.open_sessions}


def _actor(actor: str, agents: Dict[str, str]) -> str:
    """A manager's display name, or the command line with the system user (user names never contain ':')."""
    if actor == "cli" or actor.startswith("cli:"):
        return f"Kommandozeile ({actor[4:]})" if actor[4:] else "Kommandozeile"
    return agents.get(actor, actor)


def _summary(entry: StaffAudit, names: Departments) -> str:
    detail: Dict[str, Any] = entry.detail if isinstance(entry.detail, dict) else {}
    parts: List[str] = []
    if "display_name" in detail:
        parts.append("Name geändert")
    if "departments" in detail:
        parts.append("Abteilungen: " + (", ".join(names.name(k) for k in detail["departments"]) or "keine"))
    if "roles" in detail:
        parts.append("Rollen: " + (", ".join(ROLE_LABELS.get(r, r) for r in detail["roles"]) or "keine"))
    if "agencies" in detail and detail["agencies"] is not None:
        parts.append("Behörden: " + (", ".join(detail["agencies"]) or "keine"))
    if detail.get("sessions_ended"):
        parts.append(f"{detail['sessions_ended']} Sitzung(en) beendet")
    return "; ".join(parts)


def _audit(db: Session, login: Login, names: Departments) -> List[Dict[str, Any]]:
    """The latest changes; a manager of some agencies sees only those of the accounts they manage."""
    agents = {a.username: a.display_name for a in list_agents(db)}
    mine = {a.username for a in list_agents(db) if scope.sees_account(login, a)}
    return [{"at": e.at, "actor": _actor(e.actor, agents), "action": ACTION_LABELS.get(e.action, e.action),
             "target": e.target, "summary": _summary(e, names)} for e in accounts.audit_log(db)
            if login.agencies is None or e.target in mine]


def _overview(request: Request, login: Login, db: Session, names: Departments, form: Dict[str, Any],
              errors: Dict[str, str], flash: str = "", status_code: int = 200) -> HTMLResponse:
    agencies = services_of(request.app).agencies
    rows = [_row(r, names, agencies) for r in accounts.overview(db) if scope.sees_account(login, r.agent)]
    context = {"active": "accounts", "rows": rows, "form": form, "agency_boxes": scope.agency_options(login, agencies),
               "errors": errors, "department_options": [(k, names.name(k)) for k in names.keys()],
               "role_options": list(ROLE_LABELS.items()), "audit": _audit(db, login, names), "flash": flash,
               "error": bool(errors)}
    return render(request, "inbox/accounts.html", context, login, status_code=status_code)


def _agent(db: Session, username: str, login: Login) -> Agent:
    """The account, if the manager may manage it; 404 otherwise (as for an unknown user name)."""
    try:
        agent = accounts.find(db, username)
    except AccountError:
        agent = None
    if agent is None or not scope.sees_account(login, agent):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Dieses Konto gibt es nicht")
    return agent


def _detail(request: Request, login: Login, db: Session, names: Departments, agent: Agent,
            errors: Optional[Dict[str, str]] = None, form: Optional[Dict[str, Any]] = None, flash: str = "",
            failed: bool = False, status_code: int = 200) -> HTMLResponse:
    sessions = next((r.open_sessions for r in accounts.overview(db) if r.agent.id == agent.id), 0)
    values = form or {"display_name": agent.display_name, "departments": list(agent.departments or []),
                      "roles": accounts.roles_of(agent), "agencies": scope.ticked(agent)}
    context = {"active": "accounts", "account": agent, "sessions": sessions, "form": values, "errors": errors or {},
               "department_options": [(k, names.name(k)) for k in names.keys()],
               "agency_boxes": scope.agency_options(login, services_of(request.app).agencies),
               "role_options": list(ROLE_LABELS.items()), "flash": flash, "error": failed or bool(errors),
               "is_self": agent.username == login.agent.username}
    return render(request, "inbox/account.html", context, login, status_code=status_code)


def _back(username: str, code: str) -> RedirectResponse:
    return RedirectResponse(f"/inbox/accounts/{username}?meldung={code}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("", response_class=HTMLResponse)
def overview_page(request: Request, login: CurrentLogin, db: Db, names: DepartmentsDep,
                  meldung: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    """Every account, the form for a new one and the latest changes."""
    return _overview(request, login, db, names, {"departments": [], "roles": [], "agencies": []}, {},
                     FLASH.get(meldung, ""))


@router.post("", response_class=HTMLResponse)
def create_account(request: Request, login: CheckedLogin, db: Db, names: DepartmentsDep,
                   username: Annotated[str, Form(max_length=200)] = "",
                   display_name: Annotated[str, Form(max_length=500)] = "",
                   password: Annotated[str, Form(max_length=2048)] = "",
                   password_repeat: Annotated[str, Form(max_length=2048)] = "",
                   departments: Names = [], roles: Names = [],  # noqa: B006 (FastAPI copies defaults)
                   agencies: Names = []) -> Response:  # noqa: B006
    """Create an account; on invalid input the form comes back with the problems next to the fields."""
    form = {"username": username, "display_name": display_name, "departments": departments, "roles": roles,
            "agencies": agencies}
    known = services_of(request.app).agencies
    errors = _problems(lambda: _taken(db, accounts.check_username(username)),
                       lambda: scope.checked(agencies, login, known),
                       lambda: accounts.check_display_name(display_name),
                       lambda: accounts.check_departments(departments, names), lambda: accounts.check_roles(roles),
                       lambda: _same(password, password_repeat), lambda: accounts.check_password(password))
    if not errors:
        try:
            accounts.create(db, username, display_name, password, departments, roles, login.agent.username, names,
                            scope.checked(agencies, login, known))
            return RedirectResponse("/inbox/accounts?meldung=angelegt", status_code=status.HTTP_303_SEE_OTHER)
        except AccountError as err:  # e.g. neither a department nor a role
            db.rollback()
            errors = {err.field or "username": _message(err.code)}
    return _overview(request, login, db, names, form, errors, status_code=status.HTTP_400_BAD_REQUEST)


@router.get("/{username}", response_class=HTMLResponse)
def account_page(username: str, request: Request, login: CurrentLogin, db: Db, names: DepartmentsDep,
                 meldung: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    """One account: its details and every action on it."""
    return _detail(request, login, db, names, _agent(db, username, login), flash=_message(meldung),
                   failed=meldung in ERRORS)


@router.post("/{username}", response_class=HTMLResponse)
def update_account(username: str, request: Request, login: CheckedLogin, db: Db, names: DepartmentsDep,
                   display_name: Annotated[str, Form(max_length=500)] = "",
                   departments: Names = [], roles: Names = [],  # noqa: B006
                   agencies: Names = []) -> Response:  # noqa: B006
    """Change the name, departments, roles and (where the deployment serves several) agencies."""
    agent = _agent(db, username, login)
    known = services_of(request.app).agencies
    before = (agent.display_name, list(agent.departments or []), accounts.roles_of(agent), agent.agencies)
    errors = _problems(lambda: scope.checked(agencies, login, known),
                       lambda: accounts.check_display_name(display_name),
                       lambda: accounts.check_departments(departments, names), lambda: accounts.check_roles(roles))
    if not errors:
        try:
            accounts.update(db, agent.username, login.agent.username, names, display_name, departments, roles,
                            scope.checked(agencies, login, known) if len(known) > 1 else accounts.KEEP)
        except AccountError as err:  # no department nor role, or the last manager
            db.rollback()
            errors = {err.field or "roles": _message(err.code)}
    if errors:
        form = {"display_name": display_name, "departments": departments, "roles": roles, "agencies": agencies}
        return _detail(request, login, db, names, agent, errors, form, status_code=status.HTTP_400_BAD_REQUEST)
    after = (agent.display_name, list(agent.departments or []), accounts.roles_of(agent), agent.agencies)
    return _back(agent.username, "gespeichert" if after != before else "unveraendert")


@router.post("/{username}/password", response_class=HTMLResponse)
def new_password(username: str, request: Request, login: CheckedLogin, db: Db, names: DepartmentsDep,
                 password: Annotated[str, Form(max_length=2048)] = "",
                 password_repeat: Annotated[str, Form(max_length=2048)] = "") -> Response:
    """Set a new password; every session of the account ends."""
    agent = _agent(db, username, login)
    try:
        _same(password, password_repeat)
        accounts.reset_password(db, agent.username, password, login.agent.username)
    except AccountError as err:
        db.rollback()
        return _detail(request, login, db, names, agent, {"password": _message(err.code)},
                       status_code=status.HTTP_400_BAD_REQUEST)
    return _back(agent.username, "passwort")


def _action(request: Request, login: Login, db: Session, username: str, action: str) -> Response:
    """Disable, enable or log out an account; refusals come back as an error message on its page."""
    agent = _agent(db, username, login)
    change = {"disable": (accounts.disable, "deaktiviert"), "enable": (accounts.enable, "aktiviert"),
              "revoke-sessions": (accounts.revoke_sessions, "abgemeldet")}[action]
    try:
        change[0](db, agent.username, login.agent.username)
    except AccountError as err:
        db.rollback()
        return _back(agent.username, err.code)
    return _back(agent.username, change[1])


@router.post("/{username}/disable")
def disable_account(username: str, request: Request, login: CheckedLogin, db: Db) -> Response:
    """Disable the account: no logins, its sessions end now."""
    return _action(request, login, db, username, "disable")


@router.post("/{username}/enable")
def enable_account(username: str, request: Request, login: CheckedLogin, db: Db) -> Response:
    """Let the account log in again."""
    return _action(request, login, db, username, "enable")


@router.post("/{username}/revoke-sessions")
def revoke_account_sessions(username: str, request: Request, login: CheckedLogin, db: Db) -> Response:
    """Log the account out everywhere."""
    return _action(request, login, db, username, "revoke-sessions")


@router.post("/{username}/remove")
def remove_account(username: str, request: Request, login: CheckedLogin, db: Db,
                   confirm: Annotated[str, Form(max_length=10)] = "") -> Response:
    """Delete the account for good (needs the confirmation box ticked)."""
    agent = _agent(db, username, login)
    if confirm != "ja":
        return _back(agent.username, "not_confirmed")
    try:
        accounts.remove(db, agent.username, login.agent.username)
    except AccountError as err:
        db.rollback()
        return _back(agent.username, err.code)
    return RedirectResponse("/inbox/accounts?meldung=geloescht", status_code=status.HTTP_303_SEE_OTHER)
