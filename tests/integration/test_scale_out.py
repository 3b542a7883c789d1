"""The scale-out configuration: Rasa's SQL tracker store on PostgreSQL and its Redis lock store, for real."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from bot.run.runtime_env import ENDPOINT_DEFAULTS
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture
def scale_out_env(monkeypatch: pytest.MonkeyPatch) -> str:
    import psycopg2

    name = f"auskunft_rasa_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3)
    conn.autocommit = True
    conn.cursor().execute(f"CREATE DATABASE {name}")
    conn.close()
    values = {"AUSKUNFT_ACTION_URL": "http://127.0.0.1:5055/webhook", "AUSKUNFT_INTERNAL_TOKEN": "",
              "AUSKUNFT_PG_HOST": "127.0.0.1",
              "AUSKUNFT_PG_PORT": "5432", "AUSKUNFT_PG_DB": name, "AUSKUNFT_PG_USER": "postgres",
              "AUSKUNFT_PG_PASSWORD": "", "AUSKUNFT_REDIS_HOST": "127.0.0.1", "AUSKUNFT_REDIS_PORT": "6379",
              "AUSKUNFT_REDIS_PASSWORD": "", **ENDPOINT_DEFAULTS}  # the supervisor's defaults (bot/run/runtime_env.py)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    yield name
    conn = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    conn.autocommit = True
    conn.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    conn.close()


def test_trackers_in_postgresql_and_locks_in_redis(scale_out_env: str) -> None:
    from rasa.core.lock_store import LockStore, RedisLockStore
    from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.utils.endpoints import read_endpoint_config

    domain = Domain.load(str(ROOT / "domain.yml"))
    endpoints = str(ROOT / "endpoints.scale-out.yml")
    store = TrackerStore.create(read_endpoint_config(endpoints, "tracker_store"), domain=domain)
    assert isinstance(store, SQLTrackerStore) and store.engine.dialect.name == "postgresql"
    sender = f"citizen-{uuid.uuid4().hex[:6]}"

    async def roundtrip() -> list:
        tracker = await store.get_or_create_tracker(sender)
        tracker.update(UserUttered("Wie beantrage ich Wohngeld?"))
        await store.save(tracker)
        again = await TrackerStore.create(read_endpoint_config(endpoints, "tracker_store"), domain=domain).retrieve(
            sender)
        return [e.text for e in again.events if isinstance(e, UserUttered)]

    assert asyncio.run(roundtrip()) == ["Wie beantrage ich Wohngeld?"]

    locks = LockStore.create(read_endpoint_config(endpoints, "lock_store"))
    assert isinstance(locks, RedisLockStore)

    async def hold_lock() -> int:
        async with locks.lock(sender):
            held = locks.get_lock(sender)  # read back from Redis
            assert held is not None
            return len(held.tickets)

    assert asyncio.run(hold_lock()) == 1
    assert locks.get_lock(sender) is None  # released and cleaned up
    assert os.environ["AUSKUNFT_PG_DB"] == scale_out_env
