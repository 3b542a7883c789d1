"""A tracker store error fails Rasa's message instead of falling back to a process-local in-memory store."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.run import strict_trackers


class Unreachable(InMemoryTrackerStore):
    """A store whose database is away (what SQLTrackerStore does while PostgreSQL restarts)."""

    async def retrieve(self, sender_id: str) -> Any:
        raise ConnectionError("server closed the connection unexpectedly")

    async def save(self, tracker: Any) -> None:
        raise ConnectionError("server closed the connection unexpectedly")


def test_an_unreachable_tracker_store_fails_the_message_instead_of_forgetting_the_conversation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Agent, "_create_tracker_store", Agent.__dict__["_create_tracker_store"])  # undone after
    domain = Domain.empty()
    fail_safe = Agent._create_tracker_store(Unreachable(domain), domain)
    assert asyncio.run(fail_safe.retrieve("x")) is None  # Rasa's own wrapper: the conversation starts over
    strict_trackers.install()
    store = Agent._create_tracker_store(Unreachable(domain), domain)
    with pytest.raises(ConnectionError):
        asyncio.run(store.retrieve("x"))
    with pytest.raises(ConnectionError):
        asyncio.run(store.save(DialogueStateTracker("x", [])))
    working = Agent._create_tracker_store(InMemoryTrackerStore(domain), domain)
    asyncio.run(working.save(DialogueStateTracker("y", [])))
    assert asyncio.run(working.retrieve("y")) is not None  # a reachable store works as before
