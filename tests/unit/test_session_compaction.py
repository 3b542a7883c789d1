"""A new Rasa session in a long conversation: the quiet point, the events appended, the store, and the readers.

Rasa's own classes (no Rasa server): the domain of the project, ``DialogueStateTracker``, ``ActionSessionStart`` and
the SQL tracker store on a SQLite file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, List, Optional

import pytest
import sqlalchemy as sa
import yaml
from rasa.core.actions.action import ActionSessionStart
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config
from rasa_sdk import Tracker

from actions.conversation import agency, earlier_events, transcript
from bot.conversations.compaction import (
    INDEXES,
    CompactingSQLTrackerStore,
    compaction_events,
    is_quiet_point,
    session_events,
)
from bot.conversations.erase import TrackerEraser
from bot.conversations.history import HistoryUnavailable, earlier_messages
from bot.conversations.redacting_store import RedactingSQLTrackerStore
from bot.conversations.store_types import COMPACTING_SQL_STORE, REDACTING_SQL_STORE, is_sql_store
from bot.editor.recent_questions import read_recent_questions
from tests.conftest import ROOT
from tests.helpers.tracker_store import tracker_db

DOMAIN = Domain.load(str(ROOT / "domain.yml"))
ENDPOINTS = ROOT / "endpoints.yml"


def turn(text: str, lang: str = "de", faq_id: Optional[str] = None, stamp: Optional[float] = None) -> List[Event]:
    """One citizen question answered: user, the action, its two bot messages, its slots, action_listen (9 events)."""
    needs = [{"question": text, "state": "answered", "faq_id": faq_id}]
    events: List[Event] = [
        UserUttered(text, {"name": "faq", "confidence": 1.0}, metadata={"agency": "adorf"}),
        ActionExecuted("action_answer_faq"), BotUttered(f"Antwort auf {text}"), BotUttered(None, {"custom": {}}),
        SlotSet("lang", lang), SlotSet("needs", needs), SlotSet("last_faq_id", faq_id), SlotSet("misses", 0),
        ActionExecuted("action_listen")]
    if stamp is not None:
        for offset, event in enumerate(events):
            event.timestamp = stamp + offset / 100
    return events


def new_tracker(events: List[Event]) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("citizen", [ActionExecuted("action_listen"), *events], slots=DOMAIN.slots)


def long_tracker(turns: int = 12, **last: Any) -> DialogueStateTracker:
    events = [event for i in range(turns - 1) for event in turn(f"Frage {i}", faq_id=f"faq-{i}")]
    return new_tracker(events + turn("Letzte Frage", **last))


def test_a_finished_turn_is_a_quiet_point() -> None:
    assert is_quiet_point(long_tracker())


@pytest.mark.parametrize("tail", [
    [ActionExecuted("handoff_form"), ActiveLoop("handoff_form"), SlotSet("requested_slot", "handoff_consent"),
     BotUttered("Darf ich weiterleiten?"), ActionExecuted("action_listen")],  # the consent question
    [SlotSet("requested_slot", "handoff_email"), ActionExecuted("action_listen")],  # a slot is asked for
    [UserUttered("Hallo", {"name": "greet", "confidence": 1.0})],  # a user message, not answered yet
    [ActionExecuted("action_answer_faq"), BotUttered("...")],  # the bot is still acting
    [ConversationPaused(), ActionExecuted("action_listen")],
], ids=["consent-question", "requested-slot", "user-message-pending", "mid-turn", "paused"])
def test_no_quiet_point(tail: List[Event]) -> None:
    tracker = long_tracker()
    tracker.update_with_events(tail, DOMAIN)
    assert not is_quiet_point(tracker)
    assert compaction_events(tracker, 20) == []


def test_a_short_session_is_not_compacted() -> None:
    tracker = long_tracker(turns=2)
    assert len(tracker.events) == 19
    assert compaction_events(tracker, 19) == []
    assert compaction_events(tracker, 0) == []  # 0 = off
    assert compaction_events(long_tracker(turns=30), 0) == []


def test_the_appended_events_are_those_of_rasas_session_start_with_one_slot_set_per_slot() -> None:
    tracker = long_tracker(lang="en", faq_id="en-dog-tax")
    tracker.update(SlotSet("session_started_metadata", {"lang": "en", "agency": "adorf"}))
    tracker.update(ActionExecuted("action_listen"))
    ours = compaction_events(tracker, 20)
    rasas = asyncio.run(ActionSessionStart().run(None, None, tracker, DOMAIN))  # type: ignore[arg-type]
    assert isinstance(ours[0], SessionStarted) and isinstance(rasas[0], SessionStarted)
    assert ours[-1] == ActionExecuted("action_listen") == rasas[-1]
    assert all(isinstance(event, SlotSet) for event in ours[1:-1] + rasas[1:-1])
    keys = [event.key for event in ours[1:-1]]
    assert len(keys) == len(set(keys)) == 4 < len(rasas) - 2  # Rasa copies every SlotSet, repeats included
    assert set(keys) == {"lang", "needs", "last_faq_id", "session_started_metadata"}  # misses: 0, its initial value

    def slots_after(events: List[Event]) -> dict:
        copy = DialogueStateTracker.from_events("citizen", list(tracker.events), slots=DOMAIN.slots)
        copy.update_with_events(events, DOMAIN)
        return copy.current_slot_values()

    assert slots_after(ours) == slots_after(rasas) == tracker.current_slot_values()
    assert slots_after(ours)["lang"] == "en" and slots_after(ours)["last_faq_id"] == "en-dog-tax"
    assert slots_after(ours)["needs"][0]["question"] == "Letzte Frage"


def test_a_new_session_is_not_compacted_again_before_the_next_message() -> None:
    tracker = long_tracker()
    tracker.update_with_events(compaction_events(tracker, 20), DOMAIN)
    assert isinstance(session_events(tracker.events)[0], SessionStarted)
    assert compaction_events(tracker, 3) == []  # no user message in the new session yet
    tracker.update_with_events(turn("Noch eine Frage"), DOMAIN)
    assert compaction_events(tracker, 3) != []


async def _converse(store: TrackerStore, sender: str, texts: List[str]) -> List[int]:
    """Each text as one turn, as Rasa's processor does it: retrieve, add the turn's events, save."""
    loaded = []
    for text in texts:
        tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
        loaded.append(len(tracker.events))
        tracker.update_with_events(turn(text, lang="en", faq_id=f"faq-{text}"), DOMAIN)
        await store.save(tracker)
    return loaded


def test_the_store_keeps_the_loaded_session_short_and_every_event_stored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "trackers.sqlite3"
    monkeypatch.setenv("AUSKUNFT_TRACKER_DB", str(db))
    monkeypatch.setenv("AUSKUNFT_ACTION_URL", "http://127.0.0.1:1/webhook")
    monkeypatch.setenv("AUSKUNFT_INTERNAL_TOKEN", "")
    store = TrackerStore.create(read_endpoint_config(str(ENDPOINTS), "tracker_store"), domain=DOMAIN)
    assert type(store) is RedactingSQLTrackerStore  # not Rasa's silent fallback to the in-memory store
    store.compact_events = 30
    texts = [f"q{i}" for i in range(40)]
    loaded = asyncio.run(_converse(store, "citizen", texts))
    assert max(loaded) <= 30 + 9 and loaded[-1] < loaded[3]  # bounded: it does not grow with the conversation

    current = asyncio.run(store.retrieve("citizen"))
    full = asyncio.run(store.retrieve_full_tracker("citizen"))
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == texts  # nothing lost, in order
    assert sum(isinstance(e, SessionStarted) for e in full.events) >= 10
    assert current.current_slot_values() == full.current_slot_values()  # the slots carried over
    assert current.get_slot("lang") == "en" and current.get_slot("last_faq_id") == "faq-q39"

    before = next(e for e in current.events if isinstance(e, SessionStarted)).timestamp
    earlier = earlier_messages("citizen", before, 500, ENDPOINTS, {"AUSKUNFT_TRACKER_DB": str(db)})
    shown = {e.get("text") for e in earlier} | {e.text for e in current.events if isinstance(e, UserUttered)}
    assert set(texts) <= shown and earlier[0]["text"] == "q0"

    recent = read_recent_questions(3, {"AUSKUNFT_TRACKER_DB": str(db)}, ENDPOINTS)  # the editors' reader
    assert recent.notes == [] and recent.questions == ["q39", "q38", "q37"]
    eraser = TrackerEraser.from_endpoints(ENDPOINTS, {"AUSKUNFT_TRACKER_DB": str(db)})
    assert eraser.erase("citizen") == len(full.events)  # every session
    eraser.close()
    store.engine.dispose()


def test_the_session_query_finds_what_rasas_finds_with_indexes(tmp_path: Path) -> None:
    store = CompactingSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.sqlite3"), compact_events=20)
    asyncio.run(_converse(store, "long", [f"q{i}" for i in range(12)]))
    asyncio.run(_converse(store, "short", ["eine Frage"]))
    store.compact_events = 0
    asyncio.run(_converse(store, "uncompacted", [f"q{i}" for i in range(12)]))
    with store.session_scope() as session:
        for sender in ("long", "short", "uncompacted", "nobody"):
            for every in (False, True):
                ours = [row.id for row in store._event_query(session, sender, every)]
                rasas = [row.id for row in SQLTrackerStore._event_query(store, session, sender, every)]
                assert ours == rasas, (sender, every)
        assert store._event_query(session, "long", False).count() < store._event_query(session, "long", True).count()
        indexes = {row[1] for row in session.execute(sa.text("PRAGMA index_list(events)"))}
    assert set(INDEXES) <= indexes
    CompactingSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.sqlite3")).engine.dispose()  # again
    store.engine.dispose()


def test_the_store_does_not_compact_while_the_handoff_form_asks(tmp_path: Path) -> None:
    store = CompactingSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.sqlite3"), compact_events=10)
    tracker = long_tracker(turns=3)
    tracker.update_with_events([ActionExecuted("handoff_form"), ActiveLoop("handoff_form"),
                                SlotSet("requested_slot", "handoff_consent"), ActionExecuted("action_listen")], DOMAIN)
    asyncio.run(store.save(tracker))
    again = asyncio.run(store.retrieve("citizen"))
    assert again.active_loop_name == "handoff_form" and len(again.events) == len(tracker.events)
    store.engine.dispose()


@pytest.mark.parametrize("name", ["endpoints.yml", "endpoints.scale-out.yml"])
def test_both_endpoints_use_the_compacting_store_and_every_reader_knows_it(name: str) -> None:
    section = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))["tracker_store"]
    assert section["type"] == REDACTING_SQL_STORE and issubclass(RedactingSQLTrackerStore, CompactingSQLTrackerStore)
    assert f"{CompactingSQLTrackerStore.__module__}.{CompactingSQLTrackerStore.__name__}" == COMPACTING_SQL_STORE
    assert f"{RedactingSQLTrackerStore.__module__}.{RedactingSQLTrackerStore.__name__}" == REDACTING_SQL_STORE
    assert is_sql_store("SQL") and is_sql_store(COMPACTING_SQL_STORE) and is_sql_store(REDACTING_SQL_STORE)
    assert not is_sql_store("redis")


def sdk_tracker(events: List[dict], slots: Optional[dict] = None) -> Tracker:
    latest = {"text": "/affirm", "intent": {"name": "affirm"}, "metadata": {}}
    return Tracker("citizen", slots or {}, latest, events, False, None, {}, "action_listen")


def test_the_transcript_starts_with_the_earlier_sessions(isolated_settings: Path) -> None:
    isolated_settings.mkdir(parents=True, exist_ok=True)
    tracker_db(isolated_settings / "trackers.sqlite3", {"citizen": ["Erste Frage", "Zweite Frage"],
                                                        "other": ["Fremde Frage"]}, start=1000.0)
    current = sdk_tracker([{"event": "session_started", "timestamp": 1005.0},
                           {"event": "user", "timestamp": 1006.0, "text": "Dritte Frage"},
                           {"event": "bot", "timestamp": 1007.0, "text": "Darf ich weiterleiten?"}])
    earlier = earlier_events(current)
    assert [line["text"] for line in transcript(current, earlier)] == [
        "Erste Frage", "Zweite Frage", "Dritte Frage", "Darf ich weiterleiten?"]
    assert earlier_events(sdk_tracker([{"event": "user", "timestamp": 1000.5, "text": "Zweite Frage"}])) == [
        {"event": "user", "timestamp": 1000.0, "text": "Erste Frage"}]  # only what came before the session


def test_an_unreadable_store_is_named(tmp_path: Path) -> None:
    with pytest.raises(HistoryUnavailable, match="AUSKUNFT_TRACKER_DB"):
        earlier_messages("citizen", 1.0, 10, ENDPOINTS, {})
    redis = tmp_path / "endpoints.yml"
    redis.write_text("tracker_store:\n  type: redis\n  url: localhost\n", encoding="utf-8")
    assert earlier_messages("citizen", 1.0, 10, redis, {}) == []  # not SQL: the current session only


def test_the_agency_survives_a_new_session() -> None:
    slots = {"session_started_metadata": {"lang": "de", "agency": "adorf"}}
    assert agency(sdk_tracker([{"event": "session_started"}], slots)) == "adorf"
    assert agency(sdk_tracker([{"event": "session_started"}])) is None
