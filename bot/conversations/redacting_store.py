"""The tracker store Rasa runs with: the compacting SQL store that writes only redacted events, and none after erasure.

:class:`RedactingSQLTrackerStore` is :class:`~bot.conversations.compaction.CompactingSQLTrackerStore` whose
``save`` writes each new event as :func:`bot.conversations.redaction.redact_event` gives it: the ``events`` table
never holds an e-mail address, phone number, IBAN or other personal data the citizen typed, in the user's message,
the slots holding free text or a bot message that quotes it. The tracker of the running turn is not changed.

It also keeps an erasure from being undone. Rasa loads a conversation at the start of a turn and saves it at the
end, writing the events after the number it finds stored (``SQLTrackerStore._additional_events``); a conversation
erased in between (``auskunft erase``, the retention) has no stored events, so Rasa would write the whole loaded
session back. This store remembers on the tracker that it came from (or went to) the store, and writes nothing for
such a tracker when the conversation has no stored events any more; the citizen's next message starts a new one.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Optional

from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.conversations.compaction import CompactingSQLTrackerStore
from bot.conversations.redaction import redact_event

logger = logging.getLogger(__name__)

STORED_MARK = "_auskunft_stored"  # attribute set on a tracker that was read from or written to the store


def was_stored(tracker: DialogueStateTracker) -> bool:
    """True if ``tracker`` was read from the store, or events of it were written there by this process."""
    return bool(getattr(tracker, STORED_MARK, False))


class RedactingSQLTrackerStore(CompactingSQLTrackerStore):
    """The compacting SQL tracker store, writing events with personal data redacted; configured in endpoints.yml.

    ``type: bot.conversations.redacting_store.RedactingSQLTrackerStore`` with the ``SQL`` store's keys
    (``dialect``, ``url``, ``db``, ...) and the compacting store's ``compact_events``.
    """

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool
                        ) -> Optional[DialogueStateTracker]:
        """Rasa's retrieval, marking the tracker as one that was stored."""
        tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        if tracker is not None:
            setattr(tracker, STORED_MARK, True)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events redacted; nothing if its conversation was erased since it was loaded."""
        self.compact(tracker)
        await self.stream_events(tracker)  # an event broker (none is configured) gets Rasa's own events
        with self.session_scope() as session:
            stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
            if stored == 0 and was_stored(tracker):
                logger.info("A conversation was erased while its turn ran; its events are not written back.")
                return
            new = list(tracker.events)[stored:]
            for event in new:
                session.add(self._row(tracker.sender_id, event.type_name, redact_event(event.as_dict())))
            session.commit()
        if stored or new:  # the store holds events of this conversation now
            setattr(tracker, STORED_MARK, True)

    def _row(self, sender_id: str, type_name: str, data: dict[str, Any]) -> Any:
        """The ``events`` row of one event's (redacted) dict, with Rasa's columns."""
        return self.SQLEvent(sender_id=sender_id, type_name=type_name, timestamp=data.get("timestamp"),
                             intent_name=((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY),
                             action_name=data.get("name"), data=json.dumps(data))
