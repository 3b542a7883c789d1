"""While Redis (the limit store) or the database is away the web service answers 503 with a message, never 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from bot.config.settings import Settings
from bot.errors import AuskunftError
from bot.limits.base import Budget, LimitsUnavailable
from bot.limits.redis_store import RedisLimiter
from bot.web import unavailable
from bot.web.app import create_app
from tests.helpers.servers import free_port


def test_the_redis_limiter_says_the_store_is_unreachable_and_what_to_check() -> None:
    limiter = RedisLimiter(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    for call in (lambda: limiter.hit_all([Budget("k", 1, 60.0)]), lambda: limiter.note("k", "v", 1.0),
                 lambda: limiter.recall("k")):
        with pytest.raises(LimitsUnavailable, match="Redis.*not reachable.*AUSKUNFT_REDIS_URL"):
            call()
    assert issubclass(LimitsUnavailable, AuskunftError)


def test_without_redis_chat_and_lookups_fail_closed_with_503_and_retry_after(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0", rasa_port=9))
    with TestClient(app, raise_server_exceptions=False) as client:
        chat = client.post("/api/chat", json={"sender": "a" * 32, "message": "Hallo", "lang": "de"})
        assert chat.status_code == 503 and chat.headers["Retry-After"] == "5"
        assert "limit store unreachable" in chat.json()["detail"]
        page = client.post("/fall", data={"number": "AK-0000-0000"}, headers={"Accept": "text/html"})
        assert page.status_code == 503 and "Bitte versuchen Sie es in einigen Minuten erneut" in page.text
        assert client.get("/healthz").status_code == 200  # the process itself is fine: no restart loop


def test_an_unreachable_database_is_a_503_not_a_500(tmp_path: Path) -> None:
    engine = create_engine(f"postgresql://nobody@127.0.0.1:{free_port()}/none", future=True)  # nothing listens

    app = FastAPI()

    @app.get("/needs-db")
    def needs_db() -> str:
        with engine.connect() as connection:
            return str(connection.execute(text("SELECT 1")).scalar_one())

    unavailable.install(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/needs-db")
    assert answer.status_code == 503 and "database unreachable" in answer.json()["detail"]
