"""Admission control for chat turns: a bounded number in flight, a short bounded wait, then 503 at once.

Without it, a web service under more load than its Rasa process answers keeps accepting turns: they pile up in
front of the database pool and Rasa, every one gets slower, the proxy times out nearly all of them (504), and the
services go on working on turns whose citizens have already given up; those are stored late, after the citizen's
next message. With it, at most ``limit`` turns per web process are forwarded at a time; a turn waits at most
``max_wait_s`` for a slot, and when ``max_waiting`` turns are already waiting it is refused at once. A refused turn
was never forwarded: nothing of it is stored, and the widget sends it again after ``Retry-After`` seconds.

The gate is a plain asyncio object (no framework): :mod:`bot.web.admission_middleware` puts it in front of the
chat route.
"""

from __future__ import annotations

import asyncio
import math
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator

from bot.errors import AuskunftError


class Overloaded(AuskunftError):
    """The turn was refused before it was forwarded; ``retry_after_s`` says when to send it again."""

    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(f"too many messages at once ({reason}); send it again in {retry_after_s} s")
        self.reason = reason
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class GateState:
    """What the gate holds right now (for metrics and tests)."""

    in_flight: int
    waiting: int


class AdmissionGate:
    """At most ``limit`` holders at once; others wait up to ``max_wait_s``, at most ``max_waiting`` of them.

    Args:
        limit: turns forwarded at the same time; 0 = no gate (every turn passes at once).
        max_wait_s: how long a turn may wait for a slot before it is refused.
        max_waiting: turns that may wait at the same time; one more is refused without waiting.

    Raises:
        ValueError: a negative limit, a negative or non-finite wait, or a negative ``max_waiting``.
    """

    def __init__(self, limit: int, max_wait_s: float, max_waiting: int) -> None:
        if limit < 0:
            raise ValueError(f"limit must be 0 (no gate) or more, got {limit}")
        if not (math.isfinite(max_wait_s) and max_wait_s >= 0):
            raise ValueError(f"max_wait_s must be a finite number of seconds >= 0, got {max_wait_s}")
        if max_waiting < 0:
            raise ValueError(f"max_waiting must be 0 or more, got {max_waiting}")
        self.limit = limit
        self.max_wait_s = max_wait_s
        self.max_waiting = max_waiting
        self._slots = asyncio.Semaphore(limit) if limit else None
        self._in_flight = 0
        self._waiting = 0

    @property
    def state(self) -> GateState:
        """Turns in flight and waiting now."""
        return GateState(self._in_flight, self._waiting)

    @property
    def retry_after_s(self) -> int:
        """What a refused turn is told to wait: about one full wait, at least a second."""
        return max(1, math.ceil(self.max_wait_s))

    @asynccontextmanager
    async def admitted(self) -> AsyncIterator[None]:
        """Hold a slot for the body of the ``async with``.

        Raises:
            Overloaded: ``queue_full`` when ``max_waiting`` turns already wait, ``waited`` after ``max_wait_s``.
        """
        if self._slots is None:
            yield
            return
        if self._slots.locked():
            if self._waiting >= self.max_waiting:
                raise Overloaded("queue_full", self.retry_after_s)
            self._waiting += 1
            try:
                await asyncio.wait_for(self._slots.acquire(), timeout=self.max_wait_s)
            except asyncio.TimeoutError:
                raise Overloaded("waited", self.retry_after_s) from None
            finally:
                self._waiting -= 1
        else:
            await self._slots.acquire()
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._slots.release()
