"""Live updates for the inbox: server-sent events, a JSON state for polling, and the transcript as a fragment.

``GET /inbox/events`` streams ``event: state`` whenever the agent's open tickets change (case numbers, versions,
unread flags and the number waiting: see :func:`bot.tickets.live.live_state`; no text anyone wrote). The stream
ends after :data:`STREAM_SECONDS` and the browser reconnects, so no connection is held for ever.
``GET /inbox/events/state`` answers the same state once (the fallback when EventSource fails), and
``GET /inbox/tickets/{case}/verlauf`` the rendered transcript of an open ticket page (audit-logged as a read).

These requests check the login without keeping it alive: an unattended inbox tab still ends at the idle
timeout (then 401, and the page says to log in again).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Annotated, Any, AsyncIterator, Dict, Optional

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from bot.staff import auth
from bot.tickets import service
from bot.tickets.live import live_state
from bot.tickets.schemas import CASE_NUMBER
from bot.web.deps import services_of
from bot.web.routers.inbox_access import visible_ticket
from bot.web.routers.inbox_auth import COOKIE, Login, login_for, render
from bot.web.transcript import view_lines

router = APIRouter(prefix="/inbox", include_in_schema=False)
STREAM_SECONDS = 120.0  # one stream's life; EventSource reconnects after RETRY_MS
CHECK_SECONDS = 2.0  # how often a stream looks for changes
PING_SECONDS = 20.0  # a comment line keeps proxies from closing a quiet stream
RETRY_MS = 3000
NO_STORE = {"Cache-Control": "no-store"}
WatchCase = Annotated[str, Query(alias="fall", max_length=20, description="the case of the open ticket page")]


def _login(request: Request) -> Optional[Login]:
    """The agent of the request's login cookie, without sliding the session's idle end."""
    with services_of(request.app).sessions() as db:
        found = auth.agent_for_token(db, request.cookies.get(COOKIE), None,
                                     services_of(request.app).settings.agent_session_minutes)
        if found is None or not (found[0].is_manager or found[0].departments):
            return None
        db.expunge_all()
        return login_for(request, found[0], found[1].csrf_token)


def _state(request: Request, login: Login, watch: str) -> Dict[str, Any]:
    with services_of(request.app).sessions() as db:
        return live_state(db, login.tickets, login.agent.username, watch or None)


def _checked(watch: str) -> str:
    """The watched case number, or 400 when it is not one."""
    if watch and not re.match(CASE_NUMBER, watch):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="fall muss eine Fallnummer sein, z. B. AK-7KQ2-M9XD")
    return watch


def _not_logged_in() -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Nicht angemeldet: bitte laden Sie die Seite neu "
                         "und melden Sie sich an.")


@router.get("/events/state")
async def live_state_once(request: Request, fall: WatchCase = "") -> JSONResponse:
    """The current state, for pages polling when server-sent events do not get through."""
    watch = _checked(fall)
    login = await run_in_threadpool(_login, request)
    if login is None:
        raise _not_logged_in()
    return JSONResponse(await run_in_threadpool(_state, request, login, watch), headers=NO_STORE)


@router.get("/events")
async def live_events(request: Request, fall: WatchCase = "") -> StreamingResponse:
    """Server-sent events: ``state`` at the start and after every change, a comment now and then."""
    watch = _checked(fall)
    if await run_in_threadpool(_login, request) is None:
        raise _not_logged_in()
    return StreamingResponse(_stream(request, watch), media_type="text/event-stream",
                             headers={**NO_STORE, "X-Accel-Buffering": "no"})


async def _stream(request: Request, watch: str) -> AsyncIterator[str]:
    """``retry``, then the state at once and after each change, until :data:`STREAM_SECONDS` or the tab goes."""
    yield f"retry: {RETRY_MS}\n\n"
    started = last_ping = time.monotonic()
    sent = None
    while True:
        login = await run_in_threadpool(_login, request)
        if login is None:  # logged out or expired meanwhile
            yield "event: logout\ndata: {}\n\n"
            return
        state = json.dumps(await run_in_threadpool(_state, request, login, watch), sort_keys=True)
        if state != sent:
            yield f"event: state\ndata: {state}\n\n"
            sent, last_ping = state, time.monotonic()
        elif time.monotonic() - last_ping >= PING_SECONDS:
            yield ": ping\n\n"
            last_ping = time.monotonic()
        if time.monotonic() - started >= STREAM_SECONDS or await request.is_disconnected():
            return
        await asyncio.sleep(CHECK_SECONDS)


def _fragment(request: Request, case: str) -> Optional[Dict[str, Any]]:
    login = _login(request)
    if login is None:
        return None
    with services_of(request.app).sessions() as db:
        ticket = visible_ticket(db, login, case)
        service.record_read(db, ticket, login.agent.username)
        return {"transcript": view_lines(ticket.transcript or []), "login": login}


@router.get("/tickets/{case}/verlauf", response_class=HTMLResponse)
async def transcript_fragment(case: str, request: Request) -> HTMLResponse:
    """The ticket's transcript as on its page (HTML fragment, escaped); each fetch is a read in the audit log."""
    found = await run_in_threadpool(_fragment, request, case)
    if found is None:
        raise _not_logged_in()
    return render(request, "inbox/_transcript.html", {"transcript": found["transcript"]}, found["login"])
