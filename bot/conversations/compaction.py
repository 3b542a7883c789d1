"""A new Rasa session inside a long conversation, at a quiet point, so that a turn costs the same at turn 200.

Rasa 3.6 loads the events of the conversation's current session on every turn (``SQLTrackerStore.retrieve``
reads only the events since the latest ``session_started``; ``retrieve_full_tracker`` reads all), replays them,
lets RulePolicy compute states over them and sends them to the action server. Without a new session a turn's
cost grows with the conversation. :class:`CompactingSQLTrackerStore` is Rasa's SQL store that, when it saves a
tracker whose current session holds more than ``compact_events`` events and the conversation is at a quiet
point, appends what Rasa's ``ActionSessionStart`` appends (``session_started``, the slots carried over,
``action_listen``): the next turn loads only those. Nothing is deleted; every session stays in the ``events``
table, where the ticket's transcript (:mod:`bot.conversations.history`), the erasure and the retention read all
of them. Reading the current session costs what the session holds, not the conversation: the latest
``session_started`` is found with an index, then the session's events by a range on another (Rasa's own query
reads every row of the conversation to compare timestamps).

A quiet point is the end of a bot turn (the latest event is ``action_listen``) with no active loop, no
requested slot and the conversation not paused. Everything the next message depends on besides that is in
slots, which are carried over: the rules (``data/rules.yml``) condition only on the intent and on the handoff
form's active loop; no slot influences the conversation (``domain.yml``); and the actions read their state
from slots (``last_faq_id`` for "did not help", ``misses`` and ``needs`` for clarify choices and "none of
these", ``lang``, the ``handoff_*`` slots) and the choice buttons carry their entry's id in the payload.
The consent and e-mail questions are the handoff form, an active loop: never compacted there.
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.config.settings import get_settings
from bot.conversations.store_types import url_query

if TYPE_CHECKING:
    from sqlalchemy.orm import Query, Session

logger = logging.getLogger(__name__)

# Indexes on Rasa's ``events`` table (created if missing; both SQLite and PostgreSQL know IF NOT EXISTS).
INDEXES = {"ix_events_sender_type_time": "sender_id, type_name, timestamp",
           "ix_events_sender_time": "sender_id, timestamp"}


def session_events(events: Sequence[Event]) -> List[Event]:
    """The events of the current session: those from the latest ``session_started`` on (all if there is none)."""
    found: List[Event] = []
    for event in reversed(events):
        found.append(event)
        if isinstance(event, SessionStarted):
            break
    found.reverse()
    return found


def is_quiet_point(tracker: DialogueStateTracker) -> bool:
    """True if a new session may start now without changing how the next message is handled.

    The bot has finished its turn (the latest event is ``action_listen``), no loop (the handoff form's consent
    or e-mail question) is active, no slot is requested and the conversation is not paused.
    """
    last = tracker.events[-1] if tracker.events else None
    return (isinstance(last, ActionExecuted) and last.action_name == ACTION_LISTEN_NAME
            and tracker.active_loop_name is None and tracker.get_slot(REQUESTED_SLOT) is None
            and not tracker.is_paused())


def carried_slots(tracker: DialogueStateTracker) -> List[SlotSet]:
    """One ``SlotSet`` per slot whose value differs from its initial value, with its latest ``SlotSet``'s metadata.

    Rasa's ``ActionSessionStart`` copies every ``SlotSet`` event of the session, repeats included; one per slot
    gives the same slot values without a new session growing with each compaction.
    """
    metadata: Dict[str, Dict[str, Any]] = {}
    for event in reversed(tracker.applied_events()):
        if isinstance(event, SlotSet) and event.key not in metadata:
            metadata[event.key] = event.metadata
    return [SlotSet(key, copy.deepcopy(slot.value), metadata=copy.deepcopy(metadata.get(key)))
            for key, slot in tracker.slots.items() if slot.value != slot.initial_value]


def compaction_events(tracker: DialogueStateTracker, max_events: int) -> List[Event]:
    """The events that start a new session now, or [] if the session is short enough or it is no quiet point.

    Args:
        tracker: The tracker about to be saved.
        max_events: A session longer than this is compacted; 0 or less switches compaction off.

    Returns:
        ``session_started``, the carried-over slots and ``action_listen``, as Rasa's ``ActionSessionStart``;
        [] when the current session has at most ``max_events`` events, holds no user message yet (so a fresh
        session is never compacted again) or the conversation is not at a quiet point.
    """
    if max_events <= 0 or len(tracker.events) <= max_events or not is_quiet_point(tracker):
        return []
    session = session_events(tracker.events)
    if len(session) <= max_events or not any(isinstance(event, UserUttered) for event in session):
        return []
    return [SessionStarted(), *carried_slots(tracker), ActionExecuted(ACTION_LISTEN_NAME)]


class CompactingSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, starting a new session in a long conversation at a quiet point.

    Configured in ``endpoints.yml`` as ``type: bot.conversations.compaction.CompactingSQLTrackerStore`` with the
    ``SQL`` store's keys (``dialect``, ``url``, ``db``, ...). The threshold is ``AUSKUNFT_SESSION_COMPACT_EVENTS``
    unless ``compact_events`` is given.
    """

    def __init__(self, domain: Optional[Domain] = None, compact_events: Optional[int] = None,
                 **kwargs: Any) -> None:
        """Open the SQL store as Rasa's ``SQL`` type does.

        Args:
            domain: The assistant's domain.
            compact_events: The session length (events) above which a new session starts; None: the setting.
            **kwargs: Everything Rasa's ``SQLTrackerStore`` takes (dialect, host, port, db, ...); an empty value in
                ``query`` (``sslmode: ${AUSKUNFT_PG_SSLMODE}`` left empty) is left out: the driver's default.
        """
        if isinstance(kwargs.get("query"), dict):
            kwargs["query"] = url_query(kwargs["query"])
        super().__init__(domain=domain, **kwargs)
        self.compact_events = get_settings().session_compact_events if compact_events is None else int(compact_events)
        self._create_indexes()

    def _create_indexes(self) -> None:
        """Add the indexes the session query uses (once per database; several processes may race, all succeed)."""
        import sqlalchemy.exc

        for name, columns in INDEXES.items():
            try:
                with self.engine.begin() as connection:
                    connection.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {name} ON events ({columns})"))
            except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.ProgrammingError,
                    sqlalchemy.exc.IntegrityError) as err:  # another process created it at the same moment
                logger.warning("Index %s on the tracker store's events was not created (%s); a conversation's "
                               "turn then reads all of its stored events.", name, type(err).__name__)

    def _event_query(self, session: Session, sender_id: str, fetch_events_from_all_sessions: bool) -> Query:
        """The conversation's events (all, or those of the latest session), ordered by id, as Rasa's query.

        The same events as ``SQLTrackerStore._event_query`` (timestamp at or after the latest ``session_started``,
        all if there is none), in two indexed steps instead of one query that reads every stored event.
        """
        query = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id)
        if not fetch_events_from_all_sessions:
            start = session.query(sa.func.max(self.SQLEvent.timestamp)).filter(
                self.SQLEvent.sender_id == sender_id, self.SQLEvent.type_name == SessionStarted.type_name).scalar()
            if start is not None:
                query = query.filter(self.SQLEvent.timestamp >= start)
        return query.order_by(self.SQLEvent.id)

    def compact(self, tracker: DialogueStateTracker) -> None:
        """Append a new session's start to ``tracker`` if it is due (see :func:`compaction_events`)."""
        started = compaction_events(tracker, self.compact_events)
        if started:
            tracker.update_with_events(started, self.domain)
            logger.debug("Started a new session in a long conversation (%d events carried over).", len(started))

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events, first appending a new session's start if it is due."""
        self.compact(tracker)
        await super().save(tracker)
