"""The FastAPI application: chat widget and example site, chat proxy, ticket and feedback API.

Run with ``uvicorn --factory bot.web.app:create_app``.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Optional

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from bot import __version__
from bot.conversations.erase import TrackerEraser
from bot.helpdesk import DeliveryWorker, connector_from_settings, enqueue
from bot.privacy.log_filter import install_redacting_filter
from bot.runtime_env import api_token, child_env
from bot.settings import PROJECT_ROOT, Settings, get_settings
from bot.tickets.db import make_engine, session_factory
from bot.tickets.departments import Departments
from bot.tickets.office_hours import OfficeHours
from bot.web import openapi
from bot.web.background import Jobs
from bot.web.routers import cases, chat, editor, feedback, health, inbox, inbox_auth, pages, tickets
from bot.web.routers.pages import SITE, STATIC, WIDGET
from bot.web.security import security_headers

MAX_BODY_BYTES = 512 * 1024


def create_app(settings: Optional[Settings] = None) -> FastAPI:
    """Build the app; the database is created and checked at start-up (fails loudly)."""
    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    install_redacting_filter()  # personal data never reaches the service's logs

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient() as client:
            app.state.http = client
            worker = asyncio.create_task(app.state.jobs.loop(settings.worker_seconds))
            try:
                yield
            finally:
                worker.cancel()

    # No Swagger/ReDoc pages: they load their scripts from a CDN (a third-party request, and blocked by our CSP).
    # The description is at /openapi.json and in docs/openapi.json.
    app = FastAPI(title="Auskunft", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Chat widget, chat proxy, ticket and feedback API of the Auskunft FAQ bot.")
    engine = make_engine(settings.resolved_database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.api_token = api_token(settings)
    # Where Rasa keeps trackers, read the way Rasa reads it, so "delete my conversation" deletes there.
    endpoints = settings.endpoints if settings.endpoints.startswith("/") else str(PROJECT_ROOT / settings.endpoints)
    app.state.eraser = TrackerEraser.from_endpoints(Path(endpoints), child_env(settings))
    app.state.departments = Departments.load(settings.departments_file)
    app.state.agencies = settings.agencies()  # fails loudly on a bad agencies.yml
    app.state.office_hours = OfficeHours.parse(settings.office_hours, settings.timezone)
    app.state.jobs = jobs = Jobs(app)
    connector = connector_from_settings(settings)  # fails loudly on an incomplete helpdesk configuration
    app.state.helpdesk = connector
    if connector.name != "inbox":
        jobs.extra.append(DeliveryWorker(app.state.sessions, connector).run_once)
    # Hooks called by the ticket API and the inbox after a ticket is created / a reply is stored.
    app.state.on_ticket_created = lambda session, ticket: (
        enqueue(session, ticket, connector.name) if connector.name != "inbox" else None)
    app.state.on_reply = lambda session, ticket, reply: jobs.notify_soon()

    @app.middleware("http")
    async def limit_body(request: Request, call_next):  # type: ignore[no-untyped-def]
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return JSONResponse({"detail": f"request body too large (at most {MAX_BODY_BYTES} bytes)"},
                                status_code=413)
        return await call_next(request)

    app.middleware("http")(security_headers)
    app.add_middleware(GZipMiddleware, minimum_size=500)
    if settings.allowed_origin_list:  # the agency's website(s), when the widget is embedded from another origin
        app.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origin_list, allow_credentials=False,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Content-Type", chat.CONVERSATION_HEADER], max_age=600)
    for router in (health.router, tickets.router, feedback.router, chat.router, cases.router, inbox_auth.router,
                   inbox.router, editor.router, pages.router):
        app.include_router(router)
    app.mount("/widget", StaticFiles(directory=WIDGET), name="widget")
    app.mount("/site", StaticFiles(directory=SITE), name="site")
    app.mount("/inbox-static", StaticFiles(directory=STATIC / "inbox"), name="inbox-static")
    openapi.install(app)
    return app

