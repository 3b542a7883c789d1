"""The FastAPI application: ticket API, chat proxy, demo page.

Run with ``uvicorn --factory bot.web.app:create_app``.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator, Optional

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from bot import __version__
from bot.services import api_token
from bot.settings import Settings, get_settings
from bot.tickets.db import make_engine, session_factory
from bot.web.routers import chat, health, pages, tickets
from bot.web.routers.pages import STATIC

MAX_BODY_BYTES = 512 * 1024


def create_app(settings: Optional[Settings] = None) -> FastAPI:
    """Build the app; the database is created and checked at start-up (fails loudly)."""
    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient() as client:
            app.state.http = client
            yield

    app = FastAPI(title="Auskunft", version=__version__, lifespan=lifespan,
                  description="Ticket API and chat proxy of the Auskunft FAQ bot.")
    engine = make_engine(settings.resolved_database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.api_token = api_token(settings)

    @app.middleware("http")
    async def limit_body(request: Request, call_next):  # type: ignore[no-untyped-def]
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return JSONResponse({"detail": f"request body too large (at most {MAX_BODY_BYTES} bytes)"},
                                status_code=413)
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    for router in (health.router, tickets.router, chat.router, pages.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app

