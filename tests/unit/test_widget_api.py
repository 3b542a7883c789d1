"""The web service's side of the widget: example site, assets, CORS, staff replies, feedback, deletion."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from bot.config.settings import Settings
from bot.web.app import create_app
from tests.helpers.ticket_api import AUTH, TOKEN, ticket
from tests.helpers.tracker_store import tracker_db as make_tracker_db

CONVERSATION = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"
AGENCY = "https://www.musterstadt.de"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path / "home", api_token=TOKEN, allowed_origins=AGENCY)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_example_site_pages_have_a_strict_csp_and_embed_the_widget(client: TestClient) -> None:
    for path in ("/", "/buergerservice", "/en", "/datenschutz"):
        page = client.get(path)
        assert page.status_code == 200
        assert '<script src="/widget/auskunft.js"' in page.text
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/docs").status_code == 404  # Swagger UI would load scripts from a CDN


def test_widget_assets_are_served_compressed(client: TestClient) -> None:
    script = client.get("/widget/auskunft.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200 and script.headers["content-encoding"] == "gzip"
    assert not re.search(r"\.(inner|outer)HTML|insertAdjacentHTML|document\.write", script.text)  # text nodes only
    assert client.get("/widget/auskunft.css").headers["content-type"].startswith("text/css")


def test_cors_allows_only_the_configured_agency_origin(client: TestClient) -> None:
    preflight = {"Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-auskunft-conversation"}
    allowed = client.options("/api/chat/conversation", headers={"Origin": AGENCY, **preflight})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == AGENCY
    refused = client.options("/api/chat/conversation", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in refused.headers


@pytest.mark.parametrize("bad", ["*", "https://www.musterstadt.de/pfad", "www.musterstadt.de"])
def test_allowed_origins_must_be_origins(bad: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="is not an origin"):
        Settings(home=tmp_path, allowed_origins=bad)


def test_staff_replies_reach_only_their_conversation(client: TestClient) -> None:
    client.post("/api/tickets", json=ticket(conversation_id=CONVERSATION), headers=AUTH).raise_for_status()
    client.post("/api/tickets", json=ticket(case_number="AK-2222-3333", conversation_id=OTHER),
                headers=AUTH).raise_for_status()
    for case, text in (("AK-7KQ2-M9XD", "Erste Antwort"), ("AK-2222-3333", "Fremd"), ("AK-7KQ2-M9XD", "Zweite")):
        client.post(f"/api/tickets/{case}/replies", json={"author": "Frau A.", "text": text},
                    headers=AUTH).raise_for_status()
    mine = client.get("/api/chat/replies", headers={"X-Auskunft-Conversation": CONVERSATION}).json()
    assert [(r["case_number"], r["text"]) for r in mine] == [("AK-7KQ2-M9XD", "Erste Antwort"),
                                                          ("AK-7KQ2-M9XD", "Zweite")]
    newer = client.get("/api/chat/replies", params={"after": mine[0]["id"]},
                       headers={"X-Auskunft-Conversation": CONVERSATION}).json()
    assert [r["text"] for r in newer] == ["Zweite"]
    assert client.get("/api/chat/replies").status_code == 422  # no conversation header
    assert client.get("/api/chat/replies", headers={"X-Auskunft-Conversation": "short"}).status_code == 400


def test_a_resolved_case_sends_one_closing_note_in_the_tickets_language(client: TestClient) -> None:
    mine = {"X-Auskunft-Conversation": CONVERSATION}
    client.post("/api/tickets", json=ticket(conversation_id=CONVERSATION), headers=AUTH).raise_for_status()
    client.post("/api/tickets", json=ticket(case_number="AK-2222-3333", conversation_id=OTHER),
                headers=AUTH).raise_for_status()
    client.post("/api/tickets/AK-7KQ2-M9XD/replies", json={"author": "Frau A.", "text": "Erledigt."},
                headers=AUTH).raise_for_status()
    [reply] = client.get("/api/chat/replies", params={"closed_after": 0}, headers=mine).json()
    assert reply["kind"] == "reply"
    for case in ("AK-7KQ2-M9XD", "AK-2222-3333"):
        client.patch(f"/api/tickets/{case}", json={"status": "resolved"}, headers=AUTH).raise_for_status()
    notes = client.get("/api/chat/replies", params={"after": reply["id"], "closed_after": 0}, headers=mine).json()
    assert [(n["kind"], n["case_number"], n["text"]) for n in notes] == [
        ("closed", "AK-7KQ2-M9XD", "Ihr Anliegen (Fall AK-7KQ2-M9XD) wurde abgeschlossen. Sie können hier jederzeit "
                                   "eine neue Frage stellen.")]  # not the other conversation's case
    both = client.get("/api/chat/replies", params={"closed_after": 0}, headers=mine).json()
    assert [r["kind"] for r in both] == ["reply", "closed"]  # in the order they happened
    once = {"after": reply["id"], "closed_after": notes[0]["id"]}
    assert client.get("/api/chat/replies", params=once, headers=mine).json() == []  # the note comes once
    client.patch("/api/tickets/AK-7KQ2-M9XD", json={"status": "resolved"}, headers=AUTH).raise_for_status()
    assert client.get("/api/chat/replies", params=once, headers=mine).json() == []  # resolved again: no new note
    assert client.get("/api/chat/replies", headers=mine).json()[0]["kind"] == "reply"  # older widgets: replies only
    assert len(client.get("/api/chat/replies", headers=mine).json()) == 1

    client.post("/api/tickets", json=ticket(case_number="AK-4444-5555", conversation_id=CONVERSATION, language="en"),
                headers=AUTH).raise_for_status()
    for status in ("in_progress", "resolved"):
        client.patch("/api/tickets/AK-4444-5555", json={"status": status}, headers=AUTH).raise_for_status()
    english = client.get("/api/chat/replies", params=once, headers=mine).json()
    assert [(n["case_number"], n["text"]) for n in english] == [
        ("AK-4444-5555", "Your case (AK-4444-5555) has been closed. You can ask a new question here at any time.")]
    assert client.get("/api/chat/replies", params={"closed_after": -1}, headers=mine).status_code == 422


def test_feedback_needs_the_token_and_is_counted_per_faq(client: TestClient) -> None:
    vote = {"conversation_id": CONVERSATION, "faq_id": "sperrmuell", "helpful": True, "language": "de"}
    assert client.post("/api/feedback", json=vote).status_code == 401
    for helpful in (True, True, False):
        assert client.post("/api/feedback", json={**vote, "helpful": helpful}, headers=AUTH).status_code == 201
    client.post("/api/feedback", json={**vote, "faq_id": "reisepass", "helpful": False}, headers=AUTH)
    summary = client.get("/api/feedback/summary", headers=AUTH).json()
    assert summary == [{"faq_id": "sperrmuell", "helpful": 2, "not_helpful": 1},
                       {"faq_id": "reisepass", "helpful": 0, "not_helpful": 1}]
    assert client.post("/api/feedback", json={**vote, "language": "fr"}, headers=AUTH).status_code == 422


def test_deleting_a_conversation_removes_its_tracker_events_and_votes(client: TestClient, tmp_path: Path) -> None:
    # Recent from the first write: the app's retention job runs beside the test and deletes old conversations.
    trackers = make_tracker_db(tmp_path / "home" / "trackers.sqlite3",
                               {CONVERSATION: ["Mein Name ist Erika", "Wo ist das Bürgeramt?"], OTHER: ["Hallo"]},
                               start=time.time())
    vote = {"conversation_id": CONVERSATION, "faq_id": "sperrmuell", "helpful": True}
    client.post("/api/feedback", json=vote, headers=AUTH).raise_for_status()
    client.post("/api/feedback", json={**vote, "conversation_id": OTHER}, headers=AUTH).raise_for_status()

    response = client.delete("/api/chat/conversation", headers={"X-Auskunft-Conversation": CONVERSATION})
    assert response.status_code == 204
    with sqlite3.connect(trackers) as db:
        left = dict(db.execute("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id").fetchall())
    assert left == {OTHER: 2}
    votes = client.get("/api/feedback", headers=AUTH).json()
    assert [v["conversation_id"] for v in votes] == [OTHER]
    assert b"Erika" not in trackers.read_bytes()


def test_deleting_before_rasa_stored_anything_is_fine(client: TestClient) -> None:
    assert client.delete("/api/chat/conversation", headers={"X-Auskunft-Conversation": OTHER}).status_code == 204
