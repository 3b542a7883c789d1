"""The Redis limiter store (``AUSKUNFT_REDIS_URL``): one sorted set per key, checked and counted in one script."""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable, List, Optional, Sequence

from bot.limits.base import ALLOWED, Budget, Decision, LimitsUnavailable, Note, check_limit

# KEYS: the counters; ARGV: now, member, then limit and window per key. Counts under every key or none. Returns '-1'
# when counted, else the score (time) of the event that has to leave the refusing key's window and that key's number
# (strings: Lua numbers would be cut to integers on the way back).
HIT = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local limit, window = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local freed = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    return {freed[2], tostring(i)}
  end
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[1], ARGV[2])
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[2 + 2 * i]) * 1000))
end
return '-1'
"""


def _unavailable(err: Exception) -> LimitsUnavailable:
    return LimitsUnavailable(f"the limit store (Redis) is not reachable ({type(err).__name__}); requests that need "
                             "a limit are refused with 503 until it is back: check redis-server and AUSKUNFT_REDIS_URL")


class RedisLimiter:
    """Sliding-window counters and notes in Redis, shared by every process and machine that uses the server.

    Args:
        url: e.g. ``redis://127.0.0.1:6379/0``.
        prefix: put before every key (several deployments on one server).
        clock: seconds since the epoch (tests pass their own).
        client: an existing ``redis.Redis`` (tests); made from ``url`` otherwise.
        password: the server's password where ``url`` names none (``AUSKUNFT_REDIS_PASSWORD``, shared with Rasa's
            lock store); a password in ``url`` wins.
    """

    def __init__(self, url: str, prefix: str = "auskunft:limits:", clock: Callable[[], float] = time.time,
                 client: Any = None, password: Optional[str] = None) -> None:
        import redis  # here: only deployments with AUSKUNFT_REDIS_URL need it (it is in the lock for Rasa)

        self.redis = client if client is not None else redis.Redis.from_url(
            url, socket_timeout=2.0, socket_connect_timeout=2.0, password=password or None)
        self.prefix = prefix
        self._clock = clock
        self._hit = self.redis.register_script(HIT)
        self._errors = (redis.RedisError, OSError)  # connection refused, timeouts, a server going away

    def hit(self, key: str, limit: int, window: float) -> Decision:
        """Count one event for ``key`` unless ``limit`` events fell in the last ``window`` seconds."""
        return self.hit_all([Budget(key, limit, window)])

    def hit_all(self, budgets: Sequence[Budget], note: Optional[Note] = None) -> Decision:
        """Count one event under every key if each is within its budget, else under none; then keep ``note``."""
        args: List[Any] = []
        for budget in budgets:
            check_limit(budget.limit, budget.window)
            args += [budget.limit, repr(float(budget.window))]
        now = self._clock()
        try:
            answer = self._hit(keys=[self.prefix + "hits:" + b.key for b in budgets],
                               args=[repr(now), f"{now!r}:{uuid.uuid4().hex}", *args])
        except self._errors as err:
            raise _unavailable(err) from None
        if isinstance(answer, list):
            oldest, number = (float(item) for item in answer)
            return Decision(False, max(0.0, oldest + budgets[int(number) - 1].window - now))
        if note is not None:
            self.note(*note)
        return ALLOWED

    def note(self, key: str, value: str, ttl: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds (Redis drops it after that too)."""
        try:
            self.redis.set(self.prefix + "notes:" + key, f"{self._clock() + ttl!r}|{value}",
                           px=max(1, int(ttl * 1000)))
        except self._errors as err:
            raise _unavailable(err) from None

    def recall(self, key: str) -> Optional[str]:
        """The value noted under ``key`` unless it expired (by this limiter's clock, like the other stores)."""
        try:
            stored = self.redis.get(self.prefix + "notes:" + key)
        except self._errors as err:
            raise _unavailable(err) from None
        if stored is None:
            return None
        until, _, value = (stored.decode() if isinstance(stored, bytes) else str(stored)).partition("|")
        return value if float(until) > self._clock() else None
