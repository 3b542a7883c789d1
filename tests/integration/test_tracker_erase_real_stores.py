"""TrackerEraser against Rasa's real SQLTrackerStore (SQLite, PostgreSQL) and RedisTrackerStore.

Rasa writes the trackers of two citizens through the endpoints.yml the test writes; the eraser, built from the
same file, deletes one; Rasa then no longer finds it and still finds the other one unchanged.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from bot.conversations.erase import TrackerEraser
from tests.conftest import ROOT
from tests.helpers.postgres import drop_postgres, postgres_url

pytestmark = [pytest.mark.slow, pytest.mark.integration]

REDIS_DB = 14


def save_conversations(endpoints: Path, senders: list[str]) -> tuple[Any, dict[str, list[Any]]]:
    """Rasa's own tracker store from ``endpoints``, with a short conversation per sender saved in it."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.utils.endpoints import read_endpoint_config

    store = TrackerStore.create(read_endpoint_config(str(endpoints), "tracker_store"),
                                domain=Domain.load(str(ROOT / "domain.yml")))

    async def save() -> dict[str, list[Any]]:
        saved = {}
        for sender in senders:
            tracker = await store.get_or_create_tracker(sender)
            for question in (f"Wie beantrage ich Wohngeld? ({sender})", "Danke"):
                tracker.update(UserUttered(question, intent={"name": "faq", "confidence": 0.9}))
                tracker.update(ActionExecuted("action_answer_faq"))
                tracker.update(BotUttered("Das geht online."))
                tracker.update(ActionExecuted("action_listen"))
            await store.save(tracker)
            saved[sender] = list(tracker.events)
        return saved

    return store, asyncio.run(save())


def retrieve(store: Any, sender: str) -> Any:
    return asyncio.run(store.retrieve(sender))


def erase_and_check(endpoints: Path, store: Any, saved: dict[str, list[Any]], per_sender: int | None) -> None:
    gone, kept = list(saved)
    before = retrieve(store, gone)
    assert before is not None and list(before.events) == saved[gone]
    eraser = TrackerEraser.from_endpoints(endpoints)
    try:
        expected = len(saved[gone]) if per_sender is None else per_sender
        assert eraser.erase(gone) == expected
        assert eraser.erase(gone) == 0
    finally:
        eraser.close()
    assert retrieve(store, gone) is None
    assert list(asyncio.run(store.retrieve_full_tracker(kept)).events) == saved[kept]
    prefix = getattr(store, "key_prefix", "")  # RedisTrackerStore.keys() returns whole keys, not sender ids
    keys = {key[len(prefix):] for key in asyncio.run(store.keys()) if key.startswith(prefix)}
    assert kept in keys and gone not in keys


def senders() -> list[str]:
    tag = uuid.uuid4().hex[:8]
    return [f"citizen-a-{tag}", f"citizen-b-{tag}"]


def test_sqlite_tracker_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERASE_TEST_DB", str(tmp_path / "trackers.sqlite3"))
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: SQL\n  dialect: \"sqlite\"\n  db: ${ERASE_TEST_DB}\n")
    store, saved = save_conversations(endpoints, senders())
    erase_and_check(endpoints, store, saved, None)
    store.engine.dispose()


@pytest.fixture
def pg_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = postgres_url()
    name = url.rsplit("/", 1)[1]
    for key, value in {"ERASE_PG_HOST": "127.0.0.1", "ERASE_PG_PORT": "5432", "ERASE_PG_DB": name,
                       "ERASE_PG_USER": "postgres", "ERASE_PG_PASSWORD": ""}.items():
        monkeypatch.setenv(key, value)
    yield name
    drop_postgres(url)


@pytest.mark.parametrize("schema", [None, "auskunft"], ids=["public", "POSTGRESQL_SCHEMA"])
def test_postgresql_tracker_store(pg_database: str, schema: str | None, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg2

    if schema:  # Rasa then keeps its events table in this schema (search_path), and so must the eraser
        conn = psycopg2.connect(f"postgresql://postgres@127.0.0.1:5432/{pg_database}")
        conn.autocommit = True
        conn.cursor().execute(f"CREATE SCHEMA {schema}")
        conn.close()
        monkeypatch.setenv("POSTGRESQL_SCHEMA", schema)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: SQL\n  dialect: \"postgresql\"\n  url: ${ERASE_PG_HOST}\n"
                         "  port: ${ERASE_PG_PORT}\n  db: ${ERASE_PG_DB}\n  username: ${ERASE_PG_USER}\n"
                         "  password: ${ERASE_PG_PASSWORD}\n")
    store, saved = save_conversations(endpoints, senders())
    assert store.engine.dialect.name == "postgresql"
    erase_and_check(endpoints, store, saved, None)
    store.engine.dispose()
    conn = psycopg2.connect(f"postgresql://postgres@127.0.0.1:5432/{pg_database}")
    cursor = conn.cursor()
    cursor.execute("SELECT table_schema FROM information_schema.tables WHERE table_name = 'events'")
    assert cursor.fetchall() == [(schema or "public",)]
    conn.close()


@pytest.mark.parametrize("key_prefix", ["erasetest{tag}", "erase-test-{tag}"], ids=["alnum", "non-alnum-ignored"])
def test_redis_tracker_store(key_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import redis

    names = senders()
    prefix = key_prefix.format(tag=names[0].rsplit("-", 1)[1])
    monkeypatch.setenv("ERASE_REDIS_HOST", "127.0.0.1")
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: redis\n  url: ${{ERASE_REDIS_HOST}}\n  port: 6379\n"
                         f"  db: {REDIS_DB}\n  key_prefix: {prefix}\n")
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    # Rasa uses '<prefix>:tracker:' for an alphanumeric prefix and silently falls back to 'tracker:' otherwise
    rasa_prefix = f"{prefix}:tracker:" if prefix.isalnum() else "tracker:"
    try:
        store, saved = save_conversations(endpoints, names)
        assert store.key_prefix == rasa_prefix
        assert all(client.exists(rasa_prefix + name) for name in names)
        erase_and_check(endpoints, store, saved, 1)
        assert not client.exists(rasa_prefix + names[0]) and client.exists(rasa_prefix + names[1])
    finally:
        client.delete(*(rasa_prefix + name for name in names))
        client.close()
