"""Who may open what in the inbox: the one place where tickets, editor pages and accounts are scoped.

- :func:`visible_ticket`: a ticket by case number, only within the login's departments and agencies; any other
  number answers 404 (never 403, so case numbers of other agencies are not confirmed).
- :func:`editor_gate`: the dependency of every editor route (``/inbox/editor/...``): editors and managers only,
  and only for an agency the account works for (``?agency=`` or the form's ``agency``); others answer 404.
- :func:`manager_gate`: the dependency of the account pages: managers only.

A refused role is shown as the page's "no access" template with 403 (:class:`Refused`, rendered by
:func:`refused_page`, registered in :func:`bot.web.app.create_app`).
"""

from __future__ import annotations

from typing import Optional
from urllib.parse import urlencode

from fastapi import HTTPException, Request, status
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from bot.errors import AuskunftError
from bot.staff.auth import can_edit
from bot.tickets import service
from bot.tickets.models import Ticket
from bot.web.deps import AgenciesDep
from bot.web.routers.inbox_auth import CurrentLogin, Login, render


class Refused(AuskunftError):
    """The login lacks the role a page needs; shown as ``template`` with 403."""

    def __init__(self, template: str, login: Login) -> None:
        super().__init__(f"refused: {template}")
        self.template = template
        self.login = login


def refused_page(request: Request, exc: Exception) -> HTMLResponse:
    """The "no access" page of a :class:`Refused` (the app's exception handler)."""
    assert isinstance(exc, Refused)
    return render(request, exc.template, {"active": ""}, exc.login, status_code=status.HTTP_403_FORBIDDEN)


def visible_ticket(db: Session, login: Login, case: str) -> Ticket:
    """The ticket if it is in the login's departments and agencies; 404 otherwise (also for unknown numbers)."""
    ticket = service.get_ticket(db, case)
    if ticket is None or not login.sees(ticket):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Kein Ticket {case} in Ihren Abteilungen")
    return ticket


def _unknown(key: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Unbekannte Behörde {key!r}")


async def editor_gate(request: Request, login: CurrentLogin, agencies: AgenciesDep) -> None:
    """Editors and managers only, and only for their agencies (the dependency of every editor route).

    A page without ``?agency=`` is about the default agency; an account that does not work for it is sent (GET)
    to its first agency instead.

    Raises:
        Refused: neither editor nor manager, or an account without any agency.
        HTTPException: 404 for an agency outside the account's scope (as for an unknown one); 303 to the
            account's first agency.
    """
    if not can_edit(login.agent):
        raise Refused("editor/forbidden.html", login)
    served = [a.key for a in agencies if login.serves(a.key)]
    if not served:
        raise Refused("editor/forbidden.html", login)
    keys = [request.query_params.get("agency") or ""]
    if request.method == "POST":
        form_key = (await request.form()).get("agency")
        keys.append(form_key if isinstance(form_key, str) else "")
    named = [key for key in keys if key]
    for key in named:
        if not login.serves(key):
            raise _unknown(key)
    if not named and not login.serves(agencies.default.key):
        if request.method not in ("GET", "HEAD"):
            raise _unknown(agencies.default.key)
        query = dict(request.query_params)
        query["agency"] = served[0]
        raise HTTPException(status.HTTP_303_SEE_OTHER, detail="Ihre Behörde",
                            headers={"Location": f"{request.url.path}?{urlencode(query)}"})


def manager_gate(login: CurrentLogin) -> Optional[Login]:
    """Managers only (the dependency of the account pages).

    Raises:
        Refused: the login is not a manager.
    """
    if not login.agent.is_manager:
        raise Refused("inbox/accounts_forbidden.html", login)
    return login
