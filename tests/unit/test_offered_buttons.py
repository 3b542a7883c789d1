"""Typed button payloads reach Rasa as payloads only when the bot offered that button in its latest reply."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterator, List

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.channels.payloads import MAX_NOTED, OfferedButtons, as_words, offered_payloads
from bot.config.settings import Settings
from bot.limits.memory import MemoryLimiter
from bot.limits.sql import SqlLimiter
from bot.web.app import create_app
from bot.web.deps import get_http, services_of
from tests.helpers.ticket_api import TOKEN

SENDER = "0123456789abcdef0123456789abcdef"
CHOICE = '/choose_faq{"faq_id": "hundesteuer"}'
CONSENT = [{"recipient_id": SENDER, "text": "Soll ich Ihre Frage weitergeben?",
            "buttons": [{"title": "Ja", "payload": "/affirm"}, {"title": "Nein", "payload": "/deny"}]}]
CLARIFY = [{"recipient_id": SENDER, "text": "Meinten Sie:", "buttons": [
    {"title": "Hundesteuer", "payload": CHOICE}, {"title": "Keins davon", "payload": "/none_of_these"}]}]
PLAIN = [{"recipient_id": SENDER, "text": "Gern geschehen."}]


class FakeRasa:
    """Rasa's REST channel: answers with the next scripted reply and records what it was sent."""

    def __init__(self) -> None:
        self.received: List[str] = []
        self.replies: List[List[Dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received.append(json.loads(request.content)["message"])
        return httpx.Response(200, json=self.replies.pop(0) if self.replies else PLAIN)


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def app(tmp_path: Path, rasa: FakeRasa) -> Iterator[FastAPI]:
    made = create_app(Settings(home=tmp_path / "home", api_token=TOKEN, embed_in_web=False))
    client = httpx.AsyncClient(transport=httpx.MockTransport(rasa))
    made.dependency_overrides[get_http] = lambda: client
    yield made
    services_of(made).close()


def _say(client: TestClient, text: str, sender: str = SENDER) -> httpx.Response:
    answer = client.post("/api/chat", json={"sender": sender, "message": text})
    assert answer.status_code == 200, answer.text
    return answer


def test_an_offered_button_goes_to_rasa_as_its_payload(app: FastAPI, rasa: FakeRasa) -> None:
    rasa.replies = [CONSENT, CLARIFY]
    with TestClient(app) as client:
        _say(client, "Ich möchte mit einem Menschen sprechen")
        _say(client, "/affirm")
        _say(client, CHOICE)
    assert rasa.received[1:] == ["/affirm", CHOICE]


@pytest.mark.parametrize("typed, words", [("/ask_human", "ask_human"), ("/affirm", "affirm"),
                                          ("/skip_email", "skip_email"), ("/hilfe", "hilfe"),
                                          ('/choose_faq{"faq_id":"x"}', 'choose_faq{"faq_id":"x"}'),
                                          ("//ask_human@1.0", "ask_human@1.0"), ("/", "?"), ("/ /", "?")])
def test_a_payload_typed_without_its_button_is_read_as_words(app: FastAPI, rasa: FakeRasa, typed: str,
                                                             words: str) -> None:
    with TestClient(app) as client:
        _say(client, typed)  # a new conversation: nothing was offered
    assert rasa.received == [words]


def test_only_the_latest_reply_counts_and_only_in_its_own_conversation(app: FastAPI, rasa: FakeRasa) -> None:
    rasa.replies = [CONSENT, PLAIN, PLAIN, PLAIN, CONSENT, CONSENT]  # the form asks again after a stray message
    other = "f" * 32
    with TestClient(app) as client:
        _say(client, "Bitte an einen Menschen")  # offers /affirm, /deny
        _say(client, "/affirm", sender=other)  # another conversation was offered nothing
        _say(client, "Danke")  # a reply without buttons: the earlier ones no longer count
        _say(client, "/affirm")
        _say(client, "Bitte an einen Menschen")
        _say(client, '/choose_faq{"faq_id": "hundesteuer"}')  # not among this reply's buttons
        _say(client, "/deny")
    assert rasa.received == ["Bitte an einen Menschen", "affirm", "Danke", "affirm", "Bitte an einen Menschen",
                             'choose_faq{"faq_id": "hundesteuer"}', "/deny"]


def test_the_payload_as_the_widget_sends_it_after_cleaning_still_matches(app: FastAPI, rasa: FakeRasa) -> None:
    rasa.replies = [CLARIFY]
    with TestClient(app) as client:
        _say(client, "Hund")
        _say(client, f"  {CHOICE}\u200b ")  # surrounding blanks and a zero-width space are cleaned away
    assert rasa.received[1] == CHOICE


def test_offered_payloads_skips_what_is_not_a_button() -> None:
    messages: Any = [{"text": "x"}, {"buttons": "no"}, {"buttons": [{"payload": 3}, {"title": "x"}, "y",
                                                                     {"payload": "https://example.org"},
                                                                     {"payload": "/deny"}]}, "z"]
    assert offered_payloads(messages) == ["/deny"]
    assert offered_payloads({"buttons": []}) == [] and offered_payloads(None) == []
    assert as_words("/hilfe bitte") == "hilfe bitte"


@pytest.mark.parametrize("store", ["memory", "sql"])
def test_many_buttons_fit_the_store_and_expired_ones_are_gone(tmp_path: Path, store: str) -> None:
    now = [1000.0]
    if store == "memory":
        limiter: Any = MemoryLimiter(clock=lambda: now[0])
    else:
        from sqlalchemy import create_engine

        from bot.db.base import Base

        engine = create_engine(f"sqlite:///{tmp_path / 'limits.sqlite3'}")
        Base.metadata.create_all(engine)
        limiter = SqlLimiter(engine, clock=lambda: now[0])
    buttons = OfferedButtons(limiter)
    payloads = [f'/choose_faq{{"faq_id": "eintrag-{i}-mit-einem-langen-namen"}}' for i in range(30)]
    buttons.remember(SENDER, [{"buttons": [{"payload": p} for p in payloads]}])
    assert all(buttons.offered(SENDER, p) for p in payloads[:MAX_NOTED])
    assert len(limiter.recall(f"offered:{SENDER}")) <= 200  # the note column's size
    now[0] += 86401
    assert not buttons.offered(SENDER, payloads[0]) and buttons.admit(SENDER, payloads[0]).startswith("choose_faq")


def test_the_same_buttons_again_are_not_written_again() -> None:
    limiter = MemoryLimiter()
    writes: List[str] = []
    original = limiter.note

    def counting(key: str, value: str, ttl: float) -> None:
        writes.append(value)
        original(key, value, ttl)

    limiter.note = counting  # type: ignore[method-assign]
    buttons = OfferedButtons(limiter)
    for reply in (CONSENT, CONSENT, PLAIN, PLAIN, CLARIFY):
        buttons.remember(SENDER, reply)
    assert len(writes) == 3 and writes[1] == ""  # consent, no buttons, clarify
    assert buttons.offered(SENDER, CHOICE) and not buttons.offered(SENDER, "/affirm")
