"""The limit stores every shared-limit test runs on: memory, SQLite, PostgreSQL, and the real Redis.

Redis is ``AUSKUNFT_TEST_REDIS`` (default 127.0.0.1:6379, database 15), marked ``integration``; it is
skipped only off CI when no Redis answers.
"""

from __future__ import annotations

import os

import pytest

from tests.helpers.postgres import DATABASES

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
