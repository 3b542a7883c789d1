"""The limiter store a deployment uses: Redis where ``AUSKUNFT_REDIS_URL`` is set, else the ticket database."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.config.settings import Settings
from bot.limits.base import Limiter
from bot.limits.memory import MemoryLimiter
from bot.limits.sql import SqlLimiter


def limiter_for(settings: Settings, engine: Engine) -> Limiter:
    """The store named by ``limits_store`` (``auto``: Redis with a ``redis_url``, else the database ``engine``)."""
    if settings.limits_store == "memory":
        return MemoryLimiter()
    if settings.redis_url and settings.limits_store == "auto":
        from bot.limits.redis_store import RedisLimiter

        password = settings.redis_password.get_secret_value() if settings.redis_password else None
        return RedisLimiter(settings.redis_url, password=password)
    return SqlLimiter(engine)
