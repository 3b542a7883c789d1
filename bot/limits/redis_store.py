"""The Redis limiter store (``AUSKUNFT_REDIS_URL``): one sorted set per key, checked and counted in one script."""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable, Optional

from bot.limits.base import ALLOWED, Decision, check_limit

# KEYS[1] the counter; ARGV: now, window, limit, member. Returns -1 when counted, else the oldest counted time
# that has to leave the window first (as a string: Lua numbers become integers on the way back).
HIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], count - tonumber(ARGV[3]), count - tonumber(ARGV[3]), 'WITHSCORES')
  return oldest[2]
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(ARGV[2] * 1000))
return '-1'
"""


class RedisLimiter:
    """Sliding-window counters and notes in Redis, shared by every process and machine that uses the server.

    Args:
        url: e.g. ``redis://127.0.0.1:6379/0``.
        prefix: put before every key (several deployments on one server).
        clock: seconds since the epoch (tests pass their own).
        client: an existing ``redis.Redis`` (tests); made from ``url`` otherwise.
    """

    def __init__(self, url: str, prefix: str = "auskunft:limits:", clock: Callable[[], float] = time.time,
                 client: Any = None) -> None:
        import redis  # here: only deployments with AUSKUNFT_REDIS_URL need it (it is in the lock for Rasa)

        self.redis = client if client is not None else redis.Redis.from_url(url, socket_timeout=2.0,
                                                                             socket_connect_timeout=2.0)
        self.prefix = prefix
        self._clock = clock
        self._hit = self.redis.register_script(HIT)

    def hit(self, key: str, limit: int, window: float) -> Decision:
        """Count one event for ``key`` unless ``limit`` events fell in the last ``window`` seconds."""
        check_limit(limit, window)
        now = self._clock()
        oldest = float(self._hit(keys=[self.prefix + "hits:" + key],
                                 args=[repr(now), repr(float(window)), limit, f"{now!r}:{uuid.uuid4().hex}"]))
        if oldest < 0:
            return ALLOWED
        return Decision(False, max(0.0, oldest + window - now))

    def note(self, key: str, value: str, ttl: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds (Redis drops it after that too)."""
        self.redis.set(self.prefix + "notes:" + key, f"{self._clock() + ttl!r}|{value}", px=max(1, int(ttl * 1000)))

    def recall(self, key: str) -> Optional[str]:
        """The value noted under ``key`` unless it expired (by this limiter's clock, like the other stores)."""
        stored = self.redis.get(self.prefix + "notes:" + key)
        if stored is None:
            return None
        until, _, value = (stored.decode() if isinstance(stored, bytes) else str(stored)).partition("|")
        return value if float(until) > self._clock() else None
