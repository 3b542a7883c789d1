"""Several agencies in one deployment, against the real services: each widget key gets its own kb only.

The services run with three agencies (see ``write_agencies`` in conftest): the default one on the
sample kb, and the towns Adorf and Bdorf, which share that kb, override ``sperrmuell-anmelden`` with
their own text and each add one entry the other town does not have.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Dict, List, Optional

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import NewPage
from tests.e2e.conftest import Running
from tests.e2e.widget import Widget

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
TOWN_TEXT = {"adorf": "Bauhof Adorf", "bdorf": "Wertstoffhof Bdorf"}
TOWN_HOST = {"adorf": "adorf.example", "bdorf": "bdorf.example", None: "musterstadt.example"}
LOCAL_QUESTIONS = {
    "adorf": "Kann ich das Dorfgemeinschaftshaus für meinen Geburtstag mieten?",
    "bdorf": "Wann hat das Freibad geöffnet und was kostet der Eintritt?",
}


def chat(services: Running, text: str, agency: Optional[str], sender: Optional[str] = None) -> List[Dict[str, Any]]:
    body: Dict[str, Any] = {"sender": sender or uuid.uuid4().hex, "message": text, "lang": "de"}
    if agency:
        body["agency"] = agency
    response = httpx.post(f"{services.web}/api/chat", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def decision(messages: List[Dict[str, Any]]) -> Dict[str, Any]:
    return next(m["custom"] for m in messages if "custom" in m)


def everything(messages: List[Dict[str, Any]]) -> str:
    """All the citizen sees and the widget gets: texts, buttons, custom payloads."""
    return json.dumps(messages, ensure_ascii=False)


@pytest.mark.parametrize("agency", [None, "adorf", "bdorf"])
def test_the_shared_entry_is_answered_with_each_agencys_own_text(services: Running, agency: Optional[str]) -> None:
    answer = chat(services, "Wie melde ich Sperrmüll zur Abholung an?", agency)
    assert decision(answer)["decision"] == "answer" and decision(answer)["faq_id"] == "sperrmuell-anmelden"
    assert TOWN_HOST[agency] in decision(answer)["source"]
    seen = everything(answer)
    for town, text in TOWN_TEXT.items():
        assert (text in seen) == (town == agency), f"{agency}: {text!r} must appear only for {town}"


@pytest.mark.parametrize("asker, owner", [("adorf", "bdorf"), ("bdorf", "adorf"), (None, "adorf"), (None, "bdorf")])
def test_a_town_never_gets_another_towns_entry(services: Running, asker: Optional[str], owner: str) -> None:
    own = chat(services, LOCAL_QUESTIONS[owner], owner)
    assert decision(own)["decision"] == "answer" and decision(own)["faq_id"].startswith(owner)  # its owner answers
    sender = uuid.uuid4().hex
    other = chat(services, LOCAL_QUESTIONS[owner], asker, sender)
    assert owner not in everything(other).replace(f"{owner}.example", "")  # no id, title or text of that town
    assert f"{owner}.example" not in everything(other)
    # A clarify button of the other town, sent by hand, does not reach its entry either.
    forged = chat(services, f'/choose_faq{{"faq_id":"{decision(own)["faq_id"]}"}}', asker, sender)
    assert f"{owner}.example" not in everything(forged) and TOWN_TEXT[owner] not in everything(forged)


def test_an_unknown_widget_key_is_refused_with_a_clear_message(services: Running) -> None:
    response = httpx.post(f"{services.web}/api/chat", json={"sender": uuid.uuid4().hex, "message": "Hallo",
                                                              "agency": "cdorf"}, timeout=30)
    assert response.status_code == 400
    assert "unknown agency 'cdorf'" in response.json()["detail"] and "data-agency" in response.json()["detail"]
    malformed = httpx.post(f"{services.web}/api/chat", json={"sender": uuid.uuid4().hex, "message": "Hallo",
                                                              "agency": "../kb"}, timeout=30)
    assert malformed.status_code == 422


def test_a_handoff_through_a_town_widget_names_the_town_in_the_ticket(services: Running) -> None:
    sender = uuid.uuid4().hex
    offer = chat(services, "Ich möchte bitte mit einem Menschen sprechen", "bdorf", sender)
    assert decision(offer)["decision"] == "handoff" and decision(offer)["step"] == "consent"
    chat(services, "/affirm", "bdorf", sender)
    created = chat(services, "/skip_email", "bdorf", sender)
    case = decision(created)["case_number"]
    ticket = httpx.get(f"{services.web}/api/tickets/{case}",
                       headers={"Authorization": f"Bearer {services.token}"}, timeout=10).json()
    assert ticket["agency"] == "bdorf"


@pytest.mark.browser
def test_the_widget_sends_its_data_agency(new_page: NewPage, services: Running) -> None:
    tab = new_page()
    page = ('<!doctype html><html lang="de"><head><title>Gemeinde Adorf</title></head><body><main><h1>Adorf</h1>'
            '</main><script src="/widget/auskunft.js" data-agency="adorf" defer></script></body></html>')
    tab.page.route(services.web + "/adorf-test", lambda route: route.fulfill(body=page, content_type="text/html"))
    tab.page.goto(services.web + "/adorf-test")
    widget = Widget(tab.page)
    widget.open()
    answer = widget.ask("Wie melde ich Sperrmüll zur Abholung an?")
    expect(answer).to_contain_text("Bauhof Adorf")
    assert tab.page.evaluate("() => Object.keys(sessionStorage)") == ["auskunft:v1:adorf"]  # one per agency
    assert tab.console_errors == []
