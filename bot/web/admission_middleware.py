"""The admission gate (:mod:`bot.web.admission`) in front of the chat route, as a plain ASGI middleware.

It sits before everything a request costs: parsing the body, the database session and the limit checks, which run
in a thread pool of 40 whose queue is unbounded. Gating inside the route would let a flood queue there, unseen by
the gate's bounded wait (measured: 1,000 conversations at once on one host waited up to 136 s per turn that way).
A refused request gets 503 with ``Retry-After`` and JSON ``{"detail": ...}`` at once; nothing of it was read.
"""

from __future__ import annotations

import json
from typing import Callable, FrozenSet, Iterable, Optional

from bot.metrics.definitions import count_shed
from bot.web.admission import AdmissionGate, Overloaded
from bot.web.security import ASGIApp, Message, Receive, Scope, Send

BUSY = ("the bot is busy right now; your message was not received, please send it again in {seconds} seconds")


class AdmissionMiddleware:
    """Lets at most the gate's number of requests to ``paths`` (POST) through at once; see the module docstring.

    Args:
        app: the wrapped ASGI application.
        gate: returns the running app's gate (made in its lifespan, on its event loop), or None before start-up.
        paths: the exact paths gated (``/api/chat``).

    Raises:
        ValueError: no path given.
    """

    def __init__(self, app: ASGIApp, gate: Callable[[], Optional[AdmissionGate]], paths: Iterable[str]) -> None:
        self.paths: FrozenSet[str] = frozenset(paths)
        if not self.paths:
            raise ValueError("AdmissionMiddleware needs at least one path to gate, got none")
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request: gated if it is a POST to one of ``paths``."""
        gate = self.gate() if scope["type"] == "http" and scope.get("method") == "POST" and \
            scope.get("path") in self.paths else None
        if gate is None:
            await self.app(scope, receive, send)
            return
        gone = False

        async def watched() -> Message:  # notes a client that left while the request waited for its slot
            nonlocal gone
            message = await receive()
            gone = gone or message["type"] == "http.disconnect"
            return message

        try:
            async with gate.admitted():
                try:
                    await self.app(scope, watched, send)
                except Exception:
                    if not gone:
                        raise
                    # the app could not read the body of a client that had left (nothing was forwarded): no answer
                    # can reach anyone, and a traceback per closed tab would only fill the log
        except Overloaded as refused:  # raised before the app was called: nothing has been sent yet
            count_shed(refused.reason)  # counted, not logged: a line per refusal would add to the load
            await _busy(send, refused.retry_after_s)
            return
        if gone:
            count_shed("client_gone")


async def _busy(send: Send, retry_after_s: int) -> None:
    body = json.dumps({"detail": BUSY.format(seconds=retry_after_s)}).encode()
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(retry_after_s).encode())]})
    await send({"type": "http.response.body", "body": body})
