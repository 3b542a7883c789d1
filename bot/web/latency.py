"""Request latency per route template, as one plain ASGI middleware (see :mod:`bot.metrics`).

The label is the template of the route that took the request (``/api/tickets/{case_number}``, ``/widget/{path}``
for a mounted folder), never the path the client sent: case numbers, conversation ids and made-up paths never become
label values. Requests no route took (404s, bodies refused with 413 before routing) share the label ``unmatched``.
Event streams (``text/event-stream``, the inbox's live updates) are not timed: their length is how long an agent
kept the page open, not how fast the service answered.
Plain ASGI like :class:`bot.web.security.GuardMiddleware`, for the same reason (no task and stream per request).
"""

from __future__ import annotations

import time
from typing import Any, Dict, Optional

from starlette.routing import Mount

from bot.metrics import observe_request
from bot.web.security import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"


class LatencyMiddleware:
    """Records every HTTP request's latency with its route template, method and status class.

    Args:
        app: the wrapped ASGI application.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._by_endpoint: Optional[Dict[int, str]] = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection; only HTTP requests are timed."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering
        stream = False

        async def send_noting_status(message: Message) -> None:
            nonlocal status, stream
            if message["type"] == "http.response.start":
                status = int(message["status"])
                stream = any(key.lower() == b"content-type" and value.startswith(b"text/event-stream")
                             for key, value in message.get("headers", []))
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            if not stream:
                observe_request(self.template(scope), str(scope.get("method", "")), status,
                                time.perf_counter() - started)

    def template(self, scope: Scope) -> str:
        """The route template the router noted in ``scope`` (it updates the scope in place), or ``unmatched``."""
        route = scope.get("route")
        path_format = getattr(route, "path_format", None)
        if isinstance(path_format, str):
            return path_format
        endpoint = scope.get("endpoint")  # plain Starlette routes (/openapi.json) and mounts note only this
        if endpoint is not None:
            return self._templates(scope.get("app")).get(id(endpoint), UNMATCHED)
        return UNMATCHED

    def _templates(self, app: Any) -> Dict[int, str]:
        """Endpoints and mounted apps by identity -> their template; read once from the app's routes."""
        if self._by_endpoint is None:
            templates: Dict[int, str] = {}
            for route in getattr(app, "routes", None) or []:
                if isinstance(route, Mount):
                    templates[id(route.app)] = f"{route.path}/{{path}}"
                elif isinstance(getattr(route, "path_format", None), str) and hasattr(route, "endpoint"):
                    templates.setdefault(id(route.endpoint), route.path_format)
            self._by_endpoint = templates
        return self._by_endpoint
