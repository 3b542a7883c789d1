"""The in-process limiter store: for tests and single-process deployments (each process counts on its own)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Callable, Deque, Dict, Optional, Sequence, Tuple

from bot.limits.base import ALLOWED, Budget, Decision, Note, check_limit


class MemoryLimiter:
    """Sliding-window counters and notes in this process's memory.

    Args:
        clock: seconds, monotonic (tests pass their own).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._events: Dict[str, Deque[float]] = defaultdict(deque)
        self._notes: Dict[str, Tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._longest = 0.0  # the longest window seen: keys idle for longer hold nothing that counts

    def hit(self, key: str, limit: int, window: float) -> Decision:
        """Count one event for ``key`` unless ``limit`` events fell in the last ``window`` seconds."""
        return self.hit_all([Budget(key, limit, window)])

    def hit_all(self, budgets: Sequence[Budget], note: Optional[Note] = None) -> Decision:
        """Count one event under every key if each is within its budget, else under none; then keep ``note``."""
        for budget in budgets:
            check_limit(budget.limit, budget.window)
        now = self._clock()
        with self._lock:
            for key, limit, window in budgets:
                events = self._events[key]
                while events and events[0] <= now - window:
                    events.popleft()
                if len(events) >= limit:
                    return Decision(False, events[-limit] + window - now)
            for budget in budgets:
                self._events[budget.key].append(now)
            if len(self._events) > 10000:  # forget idle keys now and then
                self._longest = max([self._longest, *(b.window for b in budgets)])
                self._forget(now - self._longest)
        if note is not None:
            self.note(*note)
        return ALLOWED

    def note(self, key: str, value: str, ttl: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds."""
        with self._lock:
            self._notes[key] = (value, self._clock() + ttl)
            if len(self._notes) > 10000:
                now = self._clock()
                for stale in [k for k, (_, until) in self._notes.items() if until <= now]:
                    del self._notes[stale]

    def recall(self, key: str) -> Optional[str]:
        """The value noted under ``key`` unless it expired."""
        with self._lock:
            found = self._notes.get(key)
        return found[0] if found and found[1] > self._clock() else None

    def _forget(self, before: float) -> None:
        for stale in [k for k, v in self._events.items() if not v or v[-1] <= before]:
            del self._events[stale]
