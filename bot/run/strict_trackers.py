"""Rasa's tracker store fails loudly instead of quietly forgetting a conversation.

Rasa wraps every tracker store in ``FailSafeTrackerStore``: when the store (PostgreSQL) cannot be reached it logs
the error, *retrieves* nothing (the conversation starts from scratch) and *saves* into a process-local
in-memory store. The citizen gets an answer (200) that is never written to PostgreSQL, and after the database
is back the conversation has lost what was said meanwhile, or starts a second session over the first. The
deployment's fault test (tests/deploy/test_faults.py, PostgreSQL restarted under load) found exactly that.

Here the wrapper re-raises instead: the message fails, the REST channel answers 500
(:mod:`bot.channels.rest`), the web service answers 502 "please try again", and nothing is stored that the
citizen was not told about. Rasa's lock for the conversation is released as usual.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

log = logging.getLogger(__name__)


def install() -> None:
    """Make every Rasa ``Agent`` wrap its tracker store in the strict wrapper (call before Rasa starts)."""
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore

    class StrictTrackerStore(FailSafeTrackerStore):  # type: ignore[misc]
        """``FailSafeTrackerStore`` without the fallback: an error of the store is the message's error."""

        async def retrieve(self, sender_id: str) -> Optional[Any]:
            try:
                return await self._tracker_store.retrieve(sender_id)
            except Exception as err:
                log.error("tracker store unreachable (%s): the message fails, nothing is stored",
                          type(err).__name__)
                raise

        async def retrieve_full_tracker(self, sender_id: str) -> Optional[Any]:
            return await self._tracker_store.retrieve_full_tracker(sender_id)

        async def keys(self) -> Any:
            return await self._tracker_store.keys()

        async def save(self, tracker: Any) -> None:
            try:
                await self._tracker_store.save(tracker)
            except Exception as err:
                log.error("tracker store unreachable (%s): the turn is not stored, the message fails",
                          type(err).__name__)
                raise

    def create(store: Optional[Any], domain: Any) -> Any:
        if store is not None:
            store.domain = domain
            return StrictTrackerStore(store)
        return StrictTrackerStore(InMemoryTrackerStore(domain))

    Agent._create_tracker_store = staticmethod(create)
