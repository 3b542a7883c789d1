"""The limit stores every shared-limit test runs on: memory, SQLite, PostgreSQL, and the real Redis.

Redis is ``AUSKUNFT_TEST_REDIS`` (default 127.0.0.1:6379, database 15), marked ``integration``; it is
skipped only off CI when no Redis answers.
"""

from __future__ import annotations

import os
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

from bot.db.engine import make_engine
from bot.limits.base import Limiter
from bot.limits.memory import MemoryLimiter
from bot.limits.redis_store import RedisLimiter
from bot.limits.sql import SqlLimiter
from tests.helpers.postgres import DATABASES, drop_postgres, postgres_url

REDIS = os.environ.get("AUSKUNFT_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


STORES = ["memory", *DATABASES, pytest.param("redis", marks=[pytest.mark.integration, pytest.mark.skipif(
    not _redis_available() and not os.environ.get("CI"),
    reason="no Redis at 127.0.0.1:6379 on this machine (CI always has one and runs this)")])]


@contextmanager
def limiter_store(kind: str, clock: Callable[[], float], tmp_path: Path) -> Iterator[Limiter]:
    """A fresh limiter store of ``kind`` (one of :data:`STORES`) on ``clock``, removed afterwards."""
    if kind == "memory":
        yield MemoryLimiter(clock=clock)
    elif kind == "redis":
        import redis

        prefix = f"auskunft-test:{uuid.uuid4().hex}:"
        yield RedisLimiter(REDIS, prefix=prefix, clock=clock)
        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)
    else:
        url = postgres_url() if kind == "postgresql" else f"sqlite:///{tmp_path / 'limits.sqlite3'}"
        engine = make_engine(url)
        yield SqlLimiter(engine, clock=clock)
        engine.dispose()
        if kind == "postgresql":
            drop_postgres(url)


class Clock:
    """Seconds since the epoch, moved by hand by the test (``start``: now by default)."""

    def __init__(self, start: Optional[float] = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now
