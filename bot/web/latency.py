"""Request latency per route template, as one plain ASGI middleware (see :mod:`bot.metrics`).

The label is the template of the route that took the request (``/api/tickets/{case_number}``, ``/widget/{path}``
for a mounted folder), never the path the client sent: case numbers, conversation ids and made-up paths never become
label values. Requests no route took (404s, bodies refused with 413 before routing) share the label ``unmatched``.
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
        self._mounts: Optional[Dict[int, str]] = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection; only HTTP requests are timed."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            observe_request(self.template(scope), str(scope.get("method", "")), status,
                            time.perf_counter() - started)

    def template(self, scope: Scope) -> str:
        """The route template the router noted in ``scope`` (it updates the scope in place), or ``unmatched``."""
        route = scope.get("route")
        path_format = getattr(route, "path_format", None)
        if isinstance(path_format, str):
            return path_format
        endpoint = scope.get("endpoint")
        if endpoint is not None:
            mount = self._mount_paths(scope.get("app")).get(id(endpoint))
            if mount is not None:
                return f"{mount}/{{path}}"
        return UNMATCHED

    def _mount_paths(self, app: Any) -> Dict[int, str]:
        """Mounted apps (static folders) by identity -> their mount path; read once from the app's routes."""
        if self._mounts is None:
            routes = getattr(app, "routes", None) or []
            self._mounts = {id(route.app): route.path for route in routes if isinstance(route, Mount)}
        return self._mounts
