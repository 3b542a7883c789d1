"""The FastAPI application: chat widget and example site, chat proxy, ticket and feedback API.

Run with ``uvicorn --factory bot.web.app:create_app``.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator, Optional

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from bot import __version__
from bot.config.settings import Settings, get_settings
from bot.privacy.log_filter import install_redacting_filter
from bot.run.log_format import configure_logging
from bot.web import openapi, unavailable
from bot.web.admission import AdmissionGate
from bot.web.admission_middleware import AdmissionMiddleware
from bot.web.latency import LatencyMiddleware
from bot.web.routers import (
    accounts,
    cases,
    chat,
    editor,
    feedback,
    health,
    inbox,
    inbox_analytics,
    inbox_auth,
    inbox_canned,
    inbox_live,
    inbox_oidc,
    inbox_totp,
    metrics,
    pages,
    suggestions,
    tickets,
)
from bot.web.routers.inbox_access import Refused, refused_page
from bot.web.routers.pages import SITE, STATIC, WIDGET
from bot.web.security import GuardMiddleware
from bot.web.state import WebServices

MAX_BODY_BYTES = 512 * 1024
CHAT_PATH = "/api/chat"


def create_app(settings: Optional[Settings] = None) -> FastAPI:
    """Build the app; the database is created and checked at start-up (fails loudly)."""
    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    install_redacting_filter()  # personal data never reaches the service's logs
    configure_logging(settings.log_format, "web")  # AUSKUNFT_LOG_FORMAT=json: JSON lines on stdout (redacted)

    services = WebServices.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient() as client:
            services.http = client
            services.admission = AdmissionGate(settings.chat_in_flight, settings.chat_queue_wait_s,
                                               settings.chat_queue_max)  # on this event loop
            # off where 'auskunft serve worker' does the background work (AUSKUNFT_BACKGROUND_JOBS=false)
            worker = asyncio.create_task(services.jobs.loop(settings.worker_seconds)) \
                if settings.background_jobs else None
            try:
                yield
            finally:
                if worker is not None:
                    worker.cancel()
                services.http = None
                if services.vectors is not None:
                    await services.vectors.close()

    # No Swagger/ReDoc pages: they load their scripts from a CDN (a third-party request, and blocked by our CSP).
    # The description is at /openapi.json and in docs/openapi.json.
    app = FastAPI(title="Auskunft", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Chat widget, chat proxy, ticket and feedback API of the Auskunft FAQ bot.")
    app.state.services = services  # the one thing kept on the app; routers get its parts from bot.web.deps
    app.state.oidc = inbox_oidc.build(settings, services.departments, services.agencies)  # staff sign-in, or None

    # innermost: a chat turn waits for a slot before anything of it is read (503 + Retry-After when none comes)
    app.add_middleware(AdmissionMiddleware, gate=lambda: services.admission, paths=[CHAT_PATH])
    app.add_middleware(GuardMiddleware, max_body_bytes=MAX_BODY_BYTES)  # headers; 413 before the body is read
    app.add_middleware(GZipMiddleware, minimum_size=500)
    if settings.allowed_origin_list:  # the agency's website(s), when the widget is embedded from another origin
        app.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origin_list, allow_credentials=False,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Content-Type", chat.CONVERSATION_HEADER],
                           expose_headers=["Retry-After"], max_age=600)  # the widget says how long to wait on a 429
    app.add_middleware(LatencyMiddleware)  # outermost: times every request, 413s included (by route template)
    for router in (health.router, tickets.router, feedback.router, chat.router, cases.router, inbox_auth.router,
                   inbox_totp.router, inbox_oidc.router,
                   inbox.router, inbox_analytics.router, inbox_live.router, editor.router, suggestions.router,
                   accounts.router, inbox_canned.router, metrics.router, pages.router):
        app.include_router(router)
    app.add_exception_handler(Refused, refused_page)  # the "no access" pages of the editor and account routes
    app.mount("/widget", StaticFiles(directory=WIDGET), name="widget")
    app.mount("/site", StaticFiles(directory=SITE), name="site")
    app.mount("/inbox-static", StaticFiles(directory=STATIC / "inbox"), name="inbox-static")
    metrics.register_sources(services)  # outbox depth and index versions, read at each scrape of /metrics
    openapi.install(app)
    unavailable.install(app)  # 503 with a message while Redis (limits) or the database is away, never a 500
    return app

