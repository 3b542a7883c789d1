"""The limiter protocol: sliding-window counters per key, plus short-lived notes, in a store shared by processes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional, Protocol, Sequence, runtime_checkable

from bot.errors import AuskunftError


class LimitsUnavailable(AuskunftError):
    """The limit store cannot be reached.

    Deliberately *fail closed*: whatever needs a limit (chat, case lookups, handoffs, inbox logins) is refused with
    503 until the store is back, never let through unlimited (bot/web/unavailable.py).
    """


@dataclass(frozen=True)
class Decision:
    """Whether one event was allowed, and if not, how long until it would be.

    Attributes:
        allowed: the event was counted and may go ahead.
        retry_after: seconds until the oldest counted event leaves the window (0 when allowed).
    """

    allowed: bool
    retry_after: float = 0.0

    @property
    def retry_after_header(self) -> str:
        """``retry_after`` as the whole seconds of an HTTP ``Retry-After`` header (at least 1)."""
        return str(max(1, int(-(-self.retry_after // 1))))


ALLOWED = Decision(True)


class Budget(NamedTuple):
    """At most ``limit`` events per ``window`` seconds under ``key``."""

    key: str
    limit: int
    window: float


class Note(NamedTuple):
    """``value`` kept under ``key`` for ``ttl`` seconds."""

    key: str
    value: str
    ttl: float


def check_limit(limit: int, window: float) -> None:
    """Refuse a nonsensical budget early, with what to change.

    Raises:
        ValueError: ``limit`` below 1 or ``window`` not positive.
    """
    if limit < 1 or window <= 0:
        raise ValueError(f"a rate limit needs limit >= 1 and window > 0 seconds, got {limit} per {window} s")


@runtime_checkable
class Limiter(Protocol):
    """At most ``limit`` events per ``window`` seconds for each key (a sliding window: exact, not bucketed).

    A refused event is not counted, so a client that keeps trying is let through again as soon as its
    oldest counted event is older than the window.
    """

    def hit(self, key: str, limit: int, window: float) -> Decision:
        """Count one event for ``key`` if fewer than ``limit`` were counted in the last ``window`` seconds."""

    def hit_all(self, budgets: Sequence[Budget], note: Optional[Note] = None) -> Decision:
        """Count one event under every key if each is within its budget, else under none; then keep ``note``.

        One round trip (one transaction, one script), so a message's checks cost about what one check costs.
        """

    def note(self, key: str, value: str, ttl: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds (e.g. which address a conversation came from)."""

    def recall(self, key: str) -> Optional[str]:
        """The value noted under ``key``, or None when there is none or it expired."""
