"""Inbox login and logout, the logged-in agent as a dependency, CSRF checks and page rendering.

The login cookie ``auskunft_agent`` holds a random token (the database keeps only its SHA-256);
every form of a logged-in agent carries the session's CSRF token. The login form itself is
protected by a double-submit cookie. Repeated failed logins of a user name or from a client address make the next
attempt wait (429 with ``Retry-After``, see :mod:`bot.staff.throttle`). A login ends after
``agent_session_minutes`` or after ``session_idle_minutes`` without a request. The cookies are ``Secure`` when
``secure_cookies`` says so, or by default when ``public_url`` is https.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Annotated, Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from bot.config.agencies import DEFAULT_KEY
from bot.config.settings import Settings
from bot.staff import auth
from bot.staff.models import Agent, AgentSession
from bot.staff.throttle import LoginThrottled
from bot.staff.totp import new_secret as totp_secret
from bot.tickets.departments import Departments
from bot.tickets.models import Ticket
from bot.tickets.scope import TicketScope
from bot.web import login_pending
from bot.web.deps import DbDep, LimitsDep, LoginThrottleDep, SettingsDep, services_of
from bot.web.ratelimit import address_key

router = APIRouter(prefix="/inbox", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))
COOKIE = "auskunft_agent"
LOGIN_CSRF_COOKIE = "auskunft_login_csrf"
COOKIE_PATH = "/inbox"
STATUS_LABELS = {"new": "Neu", "in_progress": "In Bearbeitung", "waiting": "Wartet auf Rückmeldung",
                 "resolved": "Erledigt"}
Db = DbDep  # the name the inbox and editor routes use
THROTTLED = "Zu viele fehlgeschlagene Anmeldungen. Bitte warten Sie {seconds} und versuchen Sie es dann erneut."


def format_time(moment: Optional[datetime], tz: Optional[tzinfo] = None) -> str:
    """``31.01.2025, 14:05`` in the agency's time zone (a naive value from SQLite counts as UTC)."""
    if moment is None:
        return "–"
    moment = auth.aware(moment)
    return moment.astimezone(tz or timezone.utc).strftime("%d.%m.%Y, %H:%M")


templates.env.filters["zeit"] = format_time
templates.env.globals["STATUS_LABELS"] = STATUS_LABELS


@dataclass(frozen=True)
class Login:
    """The logged-in agent and the CSRF token of their session."""

    agent: Agent
    csrf_token: str
    agencies: Optional[Tuple[str, ...]] = None
    """The agencies the account works for; None = every agency (see :func:`login_for`)."""
    default_agency: str = DEFAULT_KEY

    @property
    def scope(self) -> Optional[List[str]]:
        """The department keys the agent works on; None for a manager (all departments)."""
        return None if self.agent.is_manager else list(self.agent.departments or [])

    @property
    def tickets(self) -> TicketScope:
        """The tickets this login may see (departments and agencies): every inbox query is narrowed by it."""
        scope = self.scope
        return TicketScope(None if scope is None else tuple(scope), self.agencies, self.default_agency)

    def can_see(self, department: Optional[str]) -> bool:
        """Whether a ticket of ``department`` is in this agent's queues (the agency is checked by :meth:`sees`)."""
        return bool(self.agent.is_manager) or department in (self.agent.departments or [])

    def sees(self, ticket: Ticket) -> bool:
        """Whether ``ticket`` is in this login's scope: one of its departments and one of its agencies."""
        return self.tickets.allows(ticket)

    def serves(self, agency: str) -> bool:
        """Whether the account works for the agency ``agency``."""
        return self.agencies is None or agency in self.agencies


def login_for(request: Request, agent: Agent, csrf_token: str) -> Login:
    """The login of ``agent`` with its agency scope (None where the deployment serves a single agency)."""
    agencies = services_of(request.app).agencies
    scoped = agent.agencies is not None and len(agencies) > 1
    return Login(agent, csrf_token, tuple(agent.agencies or ()) if scoped else None, agencies.default.key)


def local_tz(request: Request) -> tzinfo:
    """The agency's time zone from the settings (UTC if unknown)."""
    try:
        return ZoneInfo(services_of(request.app).settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def departments_of(request: Request) -> Departments:
    """The configured departments (for helpers that have the request; routes ask for ``DepartmentsDep``)."""
    return services_of(request.app).departments


def safe_next(target: Optional[str]) -> str:
    """``target`` if it is a local inbox path, else ``/inbox`` (no open redirects)."""
    if not target or len(target) > 500 or "\\" in target or any(ord(c) < 33 for c in target):
        return "/inbox"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return "/inbox"
    if parts.path != "/inbox" and not parts.path.startswith("/inbox/"):
        return "/inbox"
    return target


def session_of(request: Request, db: Db) -> Optional[Tuple[Agent, AgentSession]]:
    """The agent and session of the request's login cookie, if valid; the request keeps an idle session alive."""
    settings = services_of(request.app).settings
    return auth.agent_for_token(db, request.cookies.get(COOKIE), settings.session_idle_minutes,
                                settings.agent_session_minutes)


def current_login(request: Request, db: Db) -> Login:
    """The logged-in agent; GET without a valid session → 303 to the login page, other methods → 401."""
    found = session_of(request, db)
    if found is None:
        if request.method in ("GET", "HEAD"):
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            location = "/inbox/login?" + urlencode({"next": safe_next(here)})
            raise HTTPException(status.HTTP_303_SEE_OTHER, detail="Bitte anmelden", headers={"Location": location})
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="nicht angemeldet")
    agent, row = found
    return login_for(request, agent, row.csrf_token)


CurrentLogin = Annotated[Login, Depends(current_login)]


def checked_login(login: CurrentLogin, csrf_token: Annotated[str, Form()] = "") -> Login:
    """The logged-in agent of a form POST whose ``csrf_token`` matches the session (else 403)."""
    if not csrf_token or not hmac.compare_digest(csrf_token.encode(), login.csrf_token.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="CSRF-Token fehlt oder ist falsch")
    return login


CheckedLogin = Annotated[Login, Depends(checked_login)]


def render(request: Request, name: str, context: Dict[str, Any], login: Optional[Login] = None,
           status_code: int = 200) -> HTMLResponse:
    """Render an inbox template (autoescaped) with the agent, CSRF token and time zone; never cached."""
    full = {"agent": login.agent if login else None, "csrf_token": login.csrf_token if login else "",
            "tz": local_tz(request), **context}
    if login is not None and full.get("agency_options"):  # the editor's agency menu: the account's agencies only
        full["agency_options"] = [(key, name) for key, name in full["agency_options"] if login.serves(key)]
    response = templates.TemplateResponse(request, name, full, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _login_page(request: Request, next_url: str, error: str = "", notice: str = "",
                status_code: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(request, "inbox/login.html", {"login_csrf": token, "next": safe_next(next_url),
                                                    "error": error, "flash": notice,
                                                    "oidc": bool(services_of(request.app).settings.oidc_issuer)},
                      status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, path=COOKIE_PATH, httponly=True, samesite="strict",
                        secure=services_of(request.app).settings.cookies_secure)
    return response


def _throttled_page(request: Request, next_url: str, err: LoginThrottled) -> HTMLResponse:
    """The login page again with 429 and ``Retry-After``: the attempt came during a login delay."""
    wait = err.retry_after
    message = THROTTLED.format(seconds="1 Sekunde" if wait == 1 else f"{wait} Sekunden")
    response = _login_page(request, next_url, message, status_code=status.HTTP_429_TOO_MANY_REQUESTS)
    response.headers["Retry-After"] = str(err.retry_after)
    return response


def _set_login_cookie(response: Response, token: str, row: AgentSession, settings: Settings) -> None:
    """The session cookie lives as long as the login may (the server ends an idle one earlier)."""
    ends = auth.aware(row.created_at) + timedelta(minutes=settings.agent_session_minutes)
    response.set_cookie(COOKIE, token, max_age=settings.agent_session_minutes * 60, expires=ends, path=COOKIE_PATH,
                        secure=settings.cookies_secure, httponly=True, samesite="strict")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, db: Db, next_url: Annotated[str, Query(alias="next", max_length=500)] = "/inbox",
               abgemeldet: Annotated[str, Query(max_length=5)] = "") -> Response:
    """The login page (an agent who is logged in already goes straight on)."""
    if session_of(request, db) is not None:
        return RedirectResponse(safe_next(next_url), status_code=status.HTTP_303_SEE_OTHER)
    return _login_page(request, next_url, notice="Sie wurden abgemeldet." if abgemeldet else "")


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, db: Db, settings: SettingsDep, throttle: LoginThrottleDep, limits: LimitsDep,
          username: Annotated[str, Form(max_length=200)] = "",
          password: Annotated[str, Form(max_length=1024)] = "",
          csrf_token: Annotated[str, Form(max_length=200)] = "",
          next_url: Annotated[str, Form(alias="next", max_length=500)] = "/inbox") -> Response:
    """Check the credentials, start a session and set the cookie; 429 during the delay after repeated failures."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf_token or not expected or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        return _login_page(request, next_url, "Das Formular ist abgelaufen. Bitte melden Sie sich erneut an.",
                           status_code=status.HTTP_403_FORBIDDEN)
    try:
        agent = auth.authenticate(db, username, password, throttle, address_key(limits, request))
    except LoginThrottled as err:
        return _throttled_page(request, next_url, err)
    if agent is None:
        return _login_page(request, next_url, "Benutzername oder Passwort ist falsch.",
                           status_code=status.HTTP_401_UNAUTHORIZED)
    if agent.totp_secret or settings.totp_required:  # the second step (bot.web.routers.inbox_totp): no session yet
        second = RedirectResponse("/inbox/login/code", status_code=status.HTTP_303_SEE_OTHER)
        token, _ = login_pending.start(throttle.limiter, agent.id, safe_next(next_url),
                                       "" if agent.totp_secret else totp_secret())
        second.set_cookie(login_pending.COOKIE, token, max_age=int(login_pending.PENDING_S),
                          path=login_pending.COOKIE_PATH, httponly=True, samesite="strict",
                          secure=settings.cookies_secure)
        return second
    token, row = auth.start_session(db, agent, settings.agent_session_minutes, settings.session_idle_minutes)
    response = RedirectResponse(safe_next(next_url), status_code=status.HTTP_303_SEE_OTHER)
    _set_login_cookie(response, token, row, settings)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/logout")
def logout(request: Request, login: CheckedLogin, db: Db, settings: SettingsDep) -> RedirectResponse:
    """End the session and drop the cookie."""
    auth.end_session(db, request.cookies.get(COOKIE))
    response = RedirectResponse("/inbox/login?abgemeldet=1", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=settings.cookies_secure,
                           httponly=True, samesite="strict")
    return response
