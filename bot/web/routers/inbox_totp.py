"""The second login step of local accounts with a one-time code, and setting up the code on ``/inbox/zwei-faktor``.

After a right password, an account with a second factor (or every local account, with ``totp_required``) gets no
session yet: the password step notes a pending login (:mod:`bot.web.login_pending`) and sends the browser to
``/inbox/login/code``. There, wrong codes count in the login throttle like wrong passwords (and after five the
password must be typed again); a right code starts the session. An account that must have a second factor but has
none is shown a new secret in that step and is logged in once it typed a right code from it.

Wrong codes are counted for the address and for ``totp:<user name>``, apart from the password's count, so that
typing the (known) password again does not reset the delays of guessed codes.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any, Dict

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.staff import auth, totp
from bot.staff.models import Agent
from bot.staff.throttle import LoginThrottle, LoginThrottled
from bot.web import login_pending
from bot.web.deps import DbDep, LimitsDep, LoginThrottleDep, SettingsDep
from bot.web.ratelimit import address_key
from bot.web.routers.inbox_auth import THROTTLED, CheckedLogin, CurrentLogin, _login_page, _set_login_cookie, render

router = APIRouter(prefix="/inbox", include_in_schema=False)
ENROL_S = 900.0
MAX_TRIES = 5
WRONG = "Der Code ist falsch, abgelaufen oder wurde schon verwendet. Bitte geben Sie den aktuellen Code ein."
EXPIRED = "Die Anmeldung ist abgelaufen. Bitte melden Sie sich erneut an."


def _code_page(request: Request, agent: Agent, pending: Dict[str, Any], error: str = "",
               status_code: int = 200) -> HTMLResponse:
    secret = pending["secret"]
    return render(request, "inbox/login_code.html", {
        "login_csrf": pending["csrf"], "error": error, "enrol": bool(secret),
        "uri": totp.provisioning_uri(secret, agent.username) if secret else "",
        "secret": totp.grouped(secret) if secret else ""}, status_code=status_code)


@router.get("/login/code", response_class=HTMLResponse)
def code_form(request: Request, db: DbDep, throttle: LoginThrottleDep) -> Response:
    """The code form of a pending login (after the password)."""
    pending = login_pending.load(throttle.limiter, request.cookies.get(login_pending.COOKIE))
    agent = db.get(Agent, pending["agent"]) if pending else None
    if pending is None or agent is None or not agent.active:  # expired, or never typed a password
        return RedirectResponse("/inbox/login?next=%2Finbox", status_code=status.HTTP_303_SEE_OTHER)
    return _code_page(request, agent, pending)


@router.post("/login/code", response_class=HTMLResponse)
def login_code(request: Request, db: DbDep, settings: SettingsDep, throttle: LoginThrottleDep, limits: LimitsDep,
               code: Annotated[str, Form(max_length=20)] = "",
               csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Check the one-time code of a pending login and start the session."""
    token = request.cookies.get(login_pending.COOKIE)
    pending = login_pending.load(throttle.limiter, token)
    agent = db.get(Agent, pending["agent"]) if pending else None
    if pending is None or agent is None or not agent.active or not token:
        return _login_page(request, "/inbox", EXPIRED, status_code=status.HTTP_403_FORBIDDEN)
    if not csrf_token or not hmac.compare_digest(csrf_token.encode(), pending["csrf"].encode()):
        return _login_page(request, pending["next"], EXPIRED, status_code=status.HTTP_403_FORBIDDEN)
    address = address_key(limits, request)
    counted = f"totp:{agent.username}"  # its own count: a right password clears the name's, not this one
    try:
        throttle.check(counted, address)
    except LoginThrottled as err:
        wait = "1 Sekunde" if err.retry_after == 1 else f"{err.retry_after} Sekunden"
        page = _code_page(request, agent, pending, THROTTLED.format(seconds=wait), status.HTTP_429_TOO_MANY_REQUESTS)
        page.headers["Retry-After"] = str(err.retry_after)
        return page
    right = (totp.confirm_enrolment(db, agent, pending["secret"], code) if pending["secret"]
             else totp.check_code(db, agent, code))
    if not right:
        throttle.failed(counted, address)
        pending["tries"] += 1
        if pending["tries"] >= MAX_TRIES:
            login_pending.end(throttle.limiter, token)
            return _login_page(request, pending["next"], EXPIRED, status_code=status.HTTP_401_UNAUTHORIZED)
        login_pending.save(throttle.limiter, token, pending)
        return _code_page(request, agent, pending, WRONG, status.HTTP_401_UNAUTHORIZED)
    throttle.succeeded(counted)
    login_pending.end(throttle.limiter, token)
    session_token, row = auth.start_session(db, agent, settings.agent_session_minutes, settings.session_idle_minutes)
    response = RedirectResponse(pending["next"], status_code=status.HTTP_303_SEE_OTHER)
    _set_login_cookie(response, session_token, row, settings)
    response.delete_cookie(login_pending.COOKIE, path=login_pending.COOKIE_PATH)
    return response


def _enrol_key(login: Any) -> str:
    return "totp:e:" + hashlib.sha256(login.csrf_token.encode()).hexdigest()[:40]


def _enrol_page(request: Request, login: Any, throttle: LoginThrottle, error: str = "", notice: str = "",
                status_code: int = 200) -> HTMLResponse:
    agent = login.agent
    secret = ""
    if not agent.totp_secret and not agent.external_subject:
        secret = throttle.limiter.recall(_enrol_key(login)) or totp.new_secret()
        throttle.limiter.note(_enrol_key(login), secret, ENROL_S)
    return render(request, "inbox/totp.html", {
        "active": "totp", "error": error, "flash": notice or error, "secret": totp.grouped(secret) if secret else "",
        "uri": totp.provisioning_uri(secret, agent.username) if secret else ""}, login, status_code=status_code)


@router.get("/zwei-faktor", response_class=HTMLResponse)
def totp_page(request: Request, login: CurrentLogin, throttle: LoginThrottleDep) -> HTMLResponse:
    """The second factor of the logged-in account: set it up, or see that it is set up."""
    return _enrol_page(request, login, throttle)


@router.post("/zwei-faktor", response_class=HTMLResponse)
def totp_confirm(request: Request, login: CheckedLogin, db: DbDep, throttle: LoginThrottleDep,
                 code: Annotated[str, Form(max_length=20)] = "") -> HTMLResponse:
    """Store the shown secret once a right code from it was typed."""
    secret = throttle.limiter.recall(_enrol_key(login))
    agent = db.get(Agent, login.agent.id)
    if agent is None or agent.totp_secret or agent.external_subject or not secret:
        return _enrol_page(request, login, throttle)
    if not totp.confirm_enrolment(db, agent, secret, code):
        return _enrol_page(request, login, throttle, WRONG, status_code=status.HTTP_400_BAD_REQUEST)
    throttle.limiter.note(_enrol_key(login), "", 1.0)
    return _enrol_page(request, login, throttle, notice="Die Anmeldung mit zweitem Faktor ist eingerichtet. Ab der "
                       "nächsten Anmeldung fragen wir nach dem Code aus Ihrer App.")
