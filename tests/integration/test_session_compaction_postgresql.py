"""The compacting tracker store of ``endpoints.scale-out.yml`` on a real PostgreSQL: new sessions, nothing lost."""

from __future__ import annotations

import asyncio
from typing import Iterator, List

import pytest

from bot.run.runtime_env import ENDPOINT_DEFAULTS
from tests.conftest import ROOT
from tests.helpers.postgres import drop_postgres, postgres_url

pytestmark = pytest.mark.slow


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = postgres_url()
    name = url.rsplit("/", 1)[1]
    for key, value in {"AUSKUNFT_ACTION_URL": "http://127.0.0.1:5055/webhook", "AUSKUNFT_INTERNAL_TOKEN": "",
                       "AUSKUNFT_PG_HOST": "127.0.0.1",
                       "AUSKUNFT_PG_PORT": "5432", "AUSKUNFT_PG_DB": name, "AUSKUNFT_PG_USER": "postgres",
                       "AUSKUNFT_PG_PASSWORD": "", "AUSKUNFT_REDIS_HOST": "127.0.0.1",
                       "AUSKUNFT_REDIS_PORT": "6379", "AUSKUNFT_REDIS_PASSWORD": "", **ENDPOINT_DEFAULTS}.items():
        monkeypatch.setenv(key, value)
    yield name
    drop_postgres(url)


def test_long_conversation_on_postgresql(database: str) -> None:
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
    from rasa.utils.endpoints import read_endpoint_config

    from bot.conversations.erase import TrackerEraser
    from bot.conversations.history import earlier_messages
    from bot.conversations.redacting_store import RedactingSQLTrackerStore

    domain = Domain.load(str(ROOT / "domain.yml"))
    endpoints = ROOT / "endpoints.scale-out.yml"
    store = TrackerStore.create(read_endpoint_config(str(endpoints), "tracker_store"), domain=domain)
    assert type(store) is RedactingSQLTrackerStore and store.engine.dialect.name == "postgresql"
    store.compact_events = 20
    texts = [f"Frage {i}" for i in range(15)]

    async def converse() -> List[int]:
        loaded = []
        for text in texts:
            tracker = await store.get_or_create_tracker("citizen", append_action_listen=False)
            loaded.append(len(tracker.events))
            tracker.update_with_events([UserUttered(text, {"name": "faq", "confidence": 1.0}),
                                        ActionExecuted("action_answer_faq"), BotUttered(f"Antwort: {text}"),
                                        SlotSet("lang", "en"), ActionExecuted("action_listen")], domain)
            await store.save(tracker)
        return loaded

    loaded = asyncio.run(converse())
    assert max(loaded) <= 25
    current = asyncio.run(store.retrieve("citizen"))
    full = asyncio.run(store.retrieve_full_tracker("citizen"))
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == texts
    assert current.get_slot("lang") == "en" and len(current.events) < len(full.events)
    start = next(e for e in current.events if isinstance(e, SessionStarted)).timestamp
    environ = {"AUSKUNFT_PG_HOST": "127.0.0.1", "AUSKUNFT_PG_PORT": "5432", "AUSKUNFT_PG_DB": database,
               "AUSKUNFT_PG_USER": "postgres", "AUSKUNFT_PG_PASSWORD": "", **ENDPOINT_DEFAULTS}
    assert earlier_messages("citizen", start, 100, endpoints, environ)[0]["text"] == "Frage 0"
    store.engine.dispose()
    eraser = TrackerEraser.from_endpoints(endpoints, environ)
    assert eraser.erase("citizen") == len(full.events)
    eraser.close()
