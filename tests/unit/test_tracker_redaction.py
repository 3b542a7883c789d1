"""The tracker store writes events with personal data redacted, and writes nothing back after an erasure.

Rasa's own classes (no Rasa server): the project's domain and ``endpoints.yml``, the store on a SQLite file, the
rows read back with plain SQL.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import List

import pytest
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.utils.endpoints import read_endpoint_config

from bot.conversations.erase import TrackerEraser
from bot.conversations.redacting_store import RedactingSQLTrackerStore
from bot.conversations.redaction import redact_event
from tests.conftest import ROOT
from tests.helpers.private_turns import EMAIL, QUESTION, SECRETS, email_turn, question_turn

DOMAIN = Domain.load(str(ROOT / "domain.yml"))
def stored_rows(db: Path) -> List[str]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("SELECT data FROM events ORDER BY id")]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RedactingSQLTrackerStore:
    monkeypatch.setenv("AUSKUNFT_TRACKER_DB", str(tmp_path / "trackers.sqlite3"))
    monkeypatch.setenv("AUSKUNFT_ACTION_URL", "http://127.0.0.1:1/webhook")
    monkeypatch.setenv("AUSKUNFT_INTERNAL_TOKEN", "")
    created = TrackerStore.create(read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store"), domain=DOMAIN)
    assert type(created) is RedactingSQLTrackerStore  # the endpoints file Rasa runs with uses it
    yield created
    created.engine.dispose()


def test_redact_event_replaces_the_citizens_text_and_keeps_ids() -> None:
    user, _, bot, question, lang, needs, others, _ = (redact_event(e.as_dict()) for e in question_turn())
    assert user["text"] == user["parse_data"]["text"] == ("Mein Konto [IBAN] wurde belastet, rufen Sie mich an: "
                                                          "[TELEFON] oder [E-MAIL]")
    assert user["parse_data"]["entities"][0]["value"] == "[E-MAIL]" and user["metadata"]["note"] == "[E-MAIL]"
    assert user["parse_data"]["metadata"]["note"] == "[TELEFON]" and user["metadata"]["agency"] == "adorf"
    assert bot["text"].startswith("Sie fragten: Mein Konto [IBAN]")
    assert bot["data"]["buttons"][0] == {"title": "Ja, [E-MAIL]", "payload": "/affirm [E-MAIL]"}
    assert bot["data"]["custom"]["faq_id"] == "kfz-2024-01-05"  # an id the bot made is kept as is
    assert question["value"] == user["text"] and others["value"] == [user["text"]] and lang["value"] == "de"
    assert needs["value"][0]["question"] == user["text"]
    assert needs["value"][0]["index_version"] == "2024-01-05T10:00:00" and needs["value"][0]["faq_id"]
    assert needs["value"][0]["candidates"][0]["title"] == "Europawahl am 09.06.2024"  # a kb title, not typed
    email = redact_event(SlotSet("handoff_email", EMAIL).as_dict())
    assert email["value"] == "[E-MAIL]" and redact_event(SlotSet("handoff_email", None).as_dict())["value"] is None
    action = ActionExecuted("action_listen").as_dict()
    assert redact_event(action) == action
    original = question_turn()[0].as_dict()
    redact_event(original)
    assert original["text"] == QUESTION  # the caller's dict is not changed


def test_the_store_writes_no_personal_data_and_the_running_turn_keeps_it(
        store: RedactingSQLTrackerStore, tmp_path: Path) -> None:
    async def converse() -> None:
        tracker = await store.get_or_create_tracker("citizen")
        tracker.update_with_events(question_turn(), DOMAIN)
        await store.save(tracker)
        assert tracker.get_slot("handoff_question") == QUESTION  # the running turn is not changed
        tracker = await store.get_or_create_tracker("citizen")
        assert tracker.get_slot("handoff_question").startswith("Mein Konto [IBAN]")  # later turns: redacted
        tracker.update_with_events(email_turn(), DOMAIN)
        assert tracker.get_slot("handoff_email") is None
        await store.save(tracker)

    asyncio.run(converse())
    rows = stored_rows(tmp_path / "trackers.sqlite3")
    assert len(rows) == 1 + len(question_turn()) + len(email_turn())  # every event stored, once
    assert not [row for row in rows for secret in SECRETS if secret in row]
    assert sum("[E-MAIL]" in json.loads(row).get("text", "") for row in rows) == 3  # question, quote, e-mail
    slots = [json.loads(row) for row in rows if json.loads(row)["event"] == "slot"]
    assert {"name": "handoff_email", "value": "[E-MAIL]"} in [{k: s[k] for k in ("name", "value")} for s in slots]
    full = asyncio.run(store.retrieve_full_tracker("citizen"))
    assert [e.text for e in full.events if isinstance(e, UserUttered)][-1] == "[E-MAIL]"


def test_an_erasure_during_a_turn_is_not_undone_by_the_save(store: RedactingSQLTrackerStore, tmp_path: Path) -> None:
    db = tmp_path / "trackers.sqlite3"

    async def turn_with_erasure() -> None:
        tracker = await store.get_or_create_tracker("citizen")
        tracker.update_with_events(question_turn(), DOMAIN)
        await store.save(tracker)
        tracker = await store.get_or_create_tracker("citizen")  # the next turn starts
        eraser = TrackerEraser.from_endpoints(ROOT / "endpoints.yml", {"AUSKUNFT_TRACKER_DB": str(db)})
        assert eraser.erase("citizen") == 1 + len(question_turn())  # the citizen asks for erasure meanwhile
        eraser.close()
        tracker.update_with_events(email_turn(), DOMAIN)
        await store.save(tracker)  # Rasa's write-back at the end of the turn
        assert await store.retrieve("citizen") is None
        fresh = await store.get_or_create_tracker("citizen")  # the next message starts a new conversation
        fresh.update_with_events(email_turn(), DOMAIN)
        await store.save(fresh)

    asyncio.run(turn_with_erasure())
    rows = [json.loads(row) for row in stored_rows(db)]
    assert len(rows) == 1 + len(email_turn()) and not any("Konto" in json.dumps(row) for row in rows)
