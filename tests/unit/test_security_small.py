"""Small holes of the security review (issue 16): unbounded ids, invisible characters, cached case pages,
e-mail addresses that are more than one address."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ValidateHandoffForm
from bot.channels.incoming import clean_message
from bot.config.settings import Settings
from bot.privacy import redact
from bot.staff import passwords
from bot.staff.auth import create_agent
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.helpers.inbox import PASSWORD, add_ticket, login
from tests.helpers.ticket_api import AUTH, TOKEN, ticket

CONVERSATION = {"X-Auskunft-Conversation": "0123456789abcdef0123456789abcdef"}
NOT_ONE_ADDRESS = ["a@b.de,postmaster", "a@b.de, c@d.de", "max mustermann@b.de", "a@b.de;c@d.de", "<a@b.de>",
                   "Max <a@b.de>", "a@b.de\nBcc: c@d.de", "a@b@c.de", "a@b.de?bcc=c@d.de", '"a b"@c.de',
                   "a@b", "a@b.de>"]


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    monkeypatch.setattr(passwords, "N", 2**10)  # cheaper scrypt for speed
    made = create_app(Settings(home=tmp_path / "home", api_token=TOKEN))
    yield made
    services_of(made).close()


@pytest.mark.parametrize("parameter", ["after", "closed_after"])
@pytest.mark.parametrize("value", ["99999999999999999999", str(2**63), str(2**53), "-1"])
def test_reply_ids_beyond_the_database_are_refused_not_a_server_error(app: FastAPI, parameter: str,
                                                                      value: str) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/chat/replies", params={parameter: value}, headers=CONVERSATION)
        assert answer.status_code == 422, answer.text
        assert client.get("/api/chat/replies", params={parameter: str(2**53 - 1)},
                          headers=CONVERSATION).status_code == 200


@pytest.mark.parametrize("hidden", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                    "\u2069", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\x1b",
                                    "\x85", "\U000e0041"])
def test_format_and_control_characters_are_removed(hidden: str) -> None:
    assert clean_message(f"Rei{hidden}sepass", 2000) == "Reisepass"


def test_text_is_nfkc_normalised_so_the_redaction_sees_the_address() -> None:
    cleaned = clean_message("Schreiben Sie an max\uff20beispiel\uff0ede bitte", 2000)
    assert cleaned == "Schreiben Sie an max@beispiel.de bitte"
    assert "max" not in redact(cleaned) and "[E-MAIL]" in redact(cleaned)
    assert "beispiel" not in redact(clean_message("max@\u202ebeispiel.de", 2000))


def test_what_people_write_survives_the_cleaning() -> None:
    text = "Grüße aus der Straße, Maß 😀👍🏽 ❤️ é\tZeile 2\nZeile 3"
    assert clean_message(text, 2000) == text
    assert clean_message("Zeile 1\r\nZeile 2\rZeile 3", 2000) == "Zeile 1\nZeile 2\nZeile 3"


def test_the_case_page_is_never_cached(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(app) as client:
        client.post("/api/tickets", json=ticket(), headers=AUTH).raise_for_status()
        assert client.get("/fall").headers["cache-control"] == "no-store"
        found = client.post("/fall", data={"number": "AK-7KQ2-M9XD"})
        assert found.status_code == 200 and found.headers["cache-control"] == "no-store"
        assert client.post("/fall", data={"number": "AK-0000-0000"}).headers["cache-control"] == "no-store"


def _tracker() -> Tracker:
    latest: Dict[str, Any] = {"text": "", "intent": {"name": "faq", "confidence": 1.0}, "entities": [],
                              "faq": {"candidates": [], "lang": "de", "index_version": "v1"}}
    return Tracker("citizen-1", {}, latest, [], False, None, {}, "action_listen")


@pytest.mark.parametrize("address", NOT_ONE_ADDRESS)
def test_an_email_must_be_exactly_one_address(app: FastAPI, address: str) -> None:
    dispatcher = CollectingDispatcher()
    assert ValidateHandoffForm().validate_handoff_email(address, dispatcher, _tracker(), {}) == {
        "handoff_email": None}
    assert "E-Mail-Adresse" in dispatcher.messages[0]["text"]  # the existing "invalid e-mail" answer
    with TestClient(app) as client:
        assert client.post("/api/tickets", json=ticket(email=address), headers=AUTH).status_code == 422
        # the chat strips what the citizen typed; the ticket API takes the address as it is
        assert client.post("/api/tickets", json=ticket(email="a@b.de\n"), headers=AUTH).status_code == 422


@pytest.mark.parametrize("address", ["max@example.org", "max.mustermann+amt@sub.stadt-x.de", "jürgen@müller.de",
                                     "o'brien@example.com", "x@xn--mller-kva.de"])
def test_ordinary_addresses_are_still_accepted(app: FastAPI, address: str) -> None:
    dispatcher = CollectingDispatcher()
    assert ValidateHandoffForm().validate_handoff_email(address, dispatcher, _tracker(), {}) == {
        "handoff_email": address}
    with TestClient(app) as client:
        assert client.post("/api/tickets", json=ticket(email=address), headers=AUTH).status_code == 201


def test_the_mailto_link_cannot_add_recipients(app: FastAPI) -> None:
    with services_of(app).sessions() as session:
        create_agent(session, "weber", "Frau Weber", PASSWORD, ["buergerservice"], False,
                     known=services_of(app).departments)
    add_ticket(app, "AK-AAAA-0001", email="x?bcc=boss@evil.example&cc=y@b.de")
    with TestClient(app) as client:
        assert login(client, "weber").status_code == 303
        page = client.get("/inbox/tickets/AK-AAAA-0001")
        assert page.status_code == 200
        assert 'href="mailto:x%3Fbcc%3Dboss@evil.example%26cc%3Dy@b.de"' in page.text
        assert "mailto:x?bcc" not in page.text
