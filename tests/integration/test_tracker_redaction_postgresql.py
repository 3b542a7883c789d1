"""The redacting tracker store of ``endpoints.scale-out.yml`` on a real PostgreSQL: no personal data in clear, and
no write-back after an erasure during a turn."""

from __future__ import annotations

import asyncio
import json
from typing import Iterator

import pytest
import sqlalchemy as sa

from bot.run.runtime_env import ENDPOINT_DEFAULTS
from tests.conftest import ROOT
from tests.helpers.postgres import drop_postgres, postgres_url
from tests.helpers.private_turns import QUESTION, SECRETS, email_turn, question_turn

pytestmark = pytest.mark.slow


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = postgres_url()
    for key, value in {"AUSKUNFT_ACTION_URL": "http://127.0.0.1:5055/webhook", "AUSKUNFT_INTERNAL_TOKEN": "",
                       "AUSKUNFT_PG_HOST": "127.0.0.1", "AUSKUNFT_PG_PORT": "5432",
                       "AUSKUNFT_PG_DB": url.rsplit("/", 1)[1], "AUSKUNFT_PG_USER": "postgres",
                       "AUSKUNFT_PG_PASSWORD": "", "AUSKUNFT_REDIS_HOST": "127.0.0.1",
                       "AUSKUNFT_REDIS_PORT": "6379", "AUSKUNFT_REDIS_PASSWORD": "", **ENDPOINT_DEFAULTS}.items():
        monkeypatch.setenv(key, value)
    yield url
    drop_postgres(url)


def test_redacted_events_and_no_write_back_on_postgresql(database: str) -> None:
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import read_endpoint_config

    from bot.conversations.erase import TrackerEraser
    from bot.conversations.redacting_store import RedactingSQLTrackerStore

    domain = Domain.load(str(ROOT / "domain.yml"))
    endpoints = ROOT / "endpoints.scale-out.yml"
    store = TrackerStore.create(read_endpoint_config(str(endpoints), "tracker_store"), domain=domain)
    assert type(store) is RedactingSQLTrackerStore and store.engine.dialect.name == "postgresql"

    async def converse(sender: str, erase_in_between: bool) -> None:
        tracker = await store.get_or_create_tracker(sender)
        tracker.update_with_events(question_turn(), domain)
        await store.save(tracker)
        assert tracker.get_slot("handoff_question") == QUESTION
        tracker = await store.get_or_create_tracker(sender)
        if erase_in_between:
            eraser = TrackerEraser.from_endpoints(endpoints)
            assert eraser.erase(sender) == 1 + len(question_turn())
            eraser.close()
        tracker.update_with_events(email_turn(), domain)
        await store.save(tracker)

    asyncio.run(converse("citizen", erase_in_between=False))
    asyncio.run(converse("erased", erase_in_between=True))
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT sender_id, data FROM events ORDER BY id")).fetchall()
    kept = [data for sender, data in rows if sender == "citizen"]
    assert len(kept) == 1 + len(question_turn()) + len(email_turn())
    assert not [secret for data in kept for secret in SECRETS if secret in data]
    assert json.loads(kept[1])["text"].startswith("Mein Konto [IBAN]")
    assert [sender for sender, _ in rows if sender == "erased"] == []  # the erasure was not undone
    store.engine.dispose()
