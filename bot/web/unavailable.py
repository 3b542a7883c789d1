"""What the web service answers while a store it needs is away: 503 with a message and ``Retry-After``, never a 500.

- the limit store (Redis) is unreachable (:class:`bot.limits.base.LimitsUnavailable`): whatever needs a limit (chat,
  case lookups, handoffs, inbox logins) is refused: *fail closed*, never unlimited;
- the ticket database is unreachable (e.g. PostgreSQL restarting): SQLAlchemy's ``OperationalError``.

(More chat turns at once than the process takes get their 503 from :mod:`bot.web.admission_middleware`.)

Browsers get a short German page, API clients JSON ``{"detail": ...}``. Both are logged once per request with the
error's class only (no personal data, no connection strings).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.limits.base import LimitsUnavailable

log = logging.getLogger(__name__)
RETRY_AFTER_S = 5
PAGE = ("<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\"><title>Vorübergehend nicht erreichbar</title>"
        "</head><body><h1>Vorübergehend nicht erreichbar</h1><p>Der Dienst ist gerade nicht erreichbar. Bitte "
        "versuchen Sie es in einigen Minuten erneut.</p></body></html>")


def _answer(request: Request, detail: str) -> Response:
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(PAGE, status_code=503, headers=headers)
    return JSONResponse({"detail": detail}, status_code=503, headers=headers)


async def _limits(request: Request, err: Exception) -> Response:
    log.warning("503 on %s: %s", request.url.path, err)
    return _answer(request, "the service is not available right now (limit store unreachable); please try again")


async def _database(request: Request, err: Exception) -> Response:
    log.warning("503 on %s: the database is not reachable (%s)", request.url.path, type(err).__name__)
    return _answer(request, "the service is not available right now (database unreachable); please try again")


def install(app: FastAPI) -> None:
    """Answer 503 instead of 500 while the limit store or the database is away."""
    app.add_exception_handler(LimitsUnavailable, _limits)
    for error in (OperationalError, InterfaceError):
        app.add_exception_handler(error, _database)
