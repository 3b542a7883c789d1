"""The one retry policy of every outbox: exponential back-off with jitter and a cap; too many attempts → dead letter.

Both outboxes use it: the action server's tickets waiting for the web service (:mod:`bot.tickets.client`) and the
tickets waiting for an external helpdesk (:mod:`bot.helpdesk.outbox`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Optional


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again after a failed delivery, and when to stop.

    Attributes:
        base_s: the pause after the first failed attempt; it doubles with every further one.
        max_s: the longest pause (also caps a receiver's ``Retry-After``).
        max_attempts: after this many failed attempts the item becomes a dead letter (kept, no longer tried).
        jitter: up to this fraction is taken off each pause at random (0.1: 90-100 % of it), so that items that
            failed together are not all retried in the same instant; 0 makes the schedule exact. Never adds, so
            ``max_s`` stays the longest pause.
    """

    base_s: float = 5.0
    max_s: float = 900.0
    max_attempts: int = 20
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.max_s < self.base_s:
            raise ValueError(f"RetryPolicy needs 0 < base_s <= max_s, got base_s={self.base_s}, max_s={self.max_s}")
        if self.max_attempts < 1:
            raise ValueError(f"RetryPolicy needs max_attempts >= 1, got {self.max_attempts}")
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError(f"RetryPolicy needs 0 <= jitter < 1, got {self.jitter}")

    def delay(self, attempts: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after ``attempts`` failed attempts (1 → base_s, 2 → 2·base_s, ..., at most max_s).

        Args:
            attempts: failed attempts so far.
            rng: a random number in [0, 1) (tests pass a fixed one).
        """
        pause = min(self.max_s, self.base_s * 2.0 ** min(max(attempts - 1, 0), 60))
        return pause * (1.0 - self.jitter * rng()) if self.jitter else pause

    def pause(self, attempts: int, retry_after: Optional[float] = None,
              rng: Callable[[], float] = random.random) -> float:
        """The pause before the next attempt: :meth:`delay`, or longer if the receiver asked so, at most max_s."""
        return min(self.max_s, max(self.delay(attempts, rng), retry_after or 0.0))

    def gives_up(self, attempts: int) -> bool:
        """Whether ``attempts`` failed attempts make the item a dead letter."""
        return attempts >= self.max_attempts


DEFAULT_POLICY = RetryPolicy(jitter=0.1)
"""What both outboxes use unless told otherwise: 5 s doubling, at most 15 min, 20 attempts, 10 % jitter."""
