"""A small in-process rate limiter (sliding window per key), e.g. for case-number lookups.

Per process: with several web processes the effective limit is multiplied by their number,
which still makes guessing case numbers (32^8 possibilities) hopeless.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Callable, Deque, Dict


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds for each key.

    Args:
        limit: events allowed per window.
        window: the window in seconds.
        clock: a monotonic clock (tests pass their own).
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"rate limit needs limit >= 1 and window > 0, got {limit} per {window} s")
        self.limit, self.window, self._clock = limit, window, clock
        self._events: Dict[str, Deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one event for ``key``; False if it exceeds the limit (then it is not counted)."""
        now = self._clock()
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            if len(self._events) > 10000:  # forget idle keys now and then
                for stale in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
                    del self._events[stale]
            return True
