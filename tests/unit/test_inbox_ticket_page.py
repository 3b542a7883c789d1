"""The inbox pages as agents read them: the transcript as the citizen saw it, the reply box within reach, times in
the configured zone, German wording (TestClient on SQLite)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.config.settings import Settings
from bot.notifications.replies import TEXTS
from bot.staff import passwords
from bot.tickets import service
from bot.tickets.schemas import ReplyIn
from bot.web.app import create_app
from bot.web.deps import services_of
from bot.web.routers.chat import HANDED_OVER
from bot.web.wording import count_noun, duration
from tests.helpers.inbox import add_ticket, staff
from tests.helpers.ticket_api import TOKEN

CASE = "AK-TTTT-0001"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.setattr(passwords, "N", 2**10)  # cheaper scrypt for speed
    return create_app(Settings(home=tmp_path / "home", api_token=TOKEN,
                               database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}"))


def test_the_transcript_shows_rendered_answers_button_labels_and_the_decision(app: FastAPI) -> None:
    add_ticket(app, CASE, transcript=[
        {"role": "citizen", "text": "Ausweis **weg** <i>"},
        {"role": "bot", "text": "Meinten Sie eines davon?", "options": ["Personalausweis", "Nichts davon"],
         "decision": "clarify", "score": 0.53},
        {"role": "citizen", "text": "[button: choose_faq]", "choice": "Personalausweis"},
        {"role": "bot", "text": "Bitte **so schnell wie möglich** [online](https://stadt.example/termin).",
         "decision": "answer", "faq_id": "personalausweis", "score": 0.91},
        {"role": "citizen", "text": "[button: feedback_not_helpful]"}])
    page = staff(app, "weber", "buergerservice").get(f"/inbox/tickets/{CASE}").text
    assert "Ausweis **weg** &lt;i&gt;" in page  # the citizen's own words, literally
    assert "<strong>so schnell wie möglich</strong>" in page and "**so schnell" not in page
    assert '<a href="https://stadt.example/termin" target="_blank" rel="noopener noreferrer">online' in page
    assert '<li class="chosen">Personalausweis <strong>(gewählt)</strong></li>' in page
    assert '<span class="choice-label">Nein, hat nicht geholfen</span>' in page and "[button:" not in page
    assert 'title="Entscheidung: Rückfrage mit Vorschlägen · Ähnlichkeit 0,53"' in page
    assert 'title="Entscheidung: Antwort aus der FAQ · Eintrag personalausweis · Ähnlichkeit 0,91"' in page


def test_the_ticket_api_keeps_the_new_transcript_fields(app: FastAPI) -> None:
    add_ticket(app, CASE, transcript=[{"role": "bot", "text": "Frage?", "options": ["Ja"], "decision": "clarify"},
                                      {"role": "citizen", "text": "[button: affirm]", "choice": "Ja"}])
    lines = TestClient(app).get(f"/api/tickets/{CASE}", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert lines["transcript"][0]["options"] == ["Ja"] and lines["transcript"][1]["choice"] == "Ja"


def test_the_reply_box_comes_before_a_long_transcript_with_a_link_to_it(app: FastAPI) -> None:
    add_ticket(app, CASE, transcript=[{"role": "citizen", "text": f"Nachricht {i}"} for i in range(300)])
    page = staff(app, "weber", "buergerservice").get(f"/inbox/tickets/{CASE}").text
    assert '<a href="#reply-text">Zur Antwort an die anfragende Person</a>' in page
    assert page.index('id="reply-text"') < page.index("Nachricht 0") < page.index("Nachricht 299")
    assert page.index('id="reply-text"') < page.index('id="note-text"')  # notes and transfers further down


def test_a_request_for_a_person_without_a_question_says_so_instead_of_a_dash(app: FastAPI) -> None:
    add_ticket(app, CASE, question="-", reason="asked_for_human")
    page = staff(app, "weber", "buergerservice").get(f"/inbox/tickets/{CASE}").text
    assert '<blockquote class="question">-</blockquote>' not in page
    assert "Keine Frage gestellt" in page and '<a href="#h-verlauf">Gesprächsverlauf</a>' in page


def _replied_at(app: FastAPI, at: datetime) -> None:
    add_ticket(app, CASE)
    with services_of(app).sessions() as session:
        ticket = service.get_ticket(session, CASE)
        assert ticket is not None
        service.add_reply(session, ticket, ReplyIn(author="Frau Weber, Bürgerservice", text="Erledigt."))
        ticket.replies[0].created_at = at
        session.commit()


@pytest.mark.parametrize(("zone", "shown"), [("Europe/Berlin", "15.01.2026, 13:05 Uhr"),
                                             ("America/New_York", "15.01.2026, 07:05 Uhr")])
def test_the_case_page_shows_reply_times_in_the_configured_zone(tmp_path: Path, zone: str, shown: str) -> None:
    app = create_app(Settings(home=tmp_path / "home", api_token=TOKEN, timezone=zone,
                              database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}"))
    _replied_at(app, datetime(2026, 1, 15, 12, 5, tzinfo=timezone.utc))
    page = TestClient(app).post("/fall", data={"number": CASE}).text
    assert f"Frau Weber, Bürgerservice, {shown}" in page and "UTC" not in page


def test_the_ticket_page_shows_times_in_the_configured_zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "N", 2**10)
    app = create_app(Settings(home=tmp_path / "home", api_token=TOKEN, timezone="America/New_York",
                              database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}"))
    _replied_at(app, datetime(2026, 1, 15, 12, 5, tzinfo=timezone.utc))
    page = staff(app, "weber", "buergerservice").get(f"/inbox/tickets/{CASE}").text
    assert "15.01.2026, 07:05" in page


@pytest.mark.parametrize(("count", "text"), [(0, "0 Tickets"), (1, "1 Ticket"), (2, "2 Tickets")])
def test_counts_take_the_right_number(count: int, text: str) -> None:
    assert count_noun(count, "Ticket", "Tickets") == text


def test_the_queue_says_1_ticket_and_names_departments_without_a_wrong_article(app: FastAPI) -> None:
    add_ticket(app, CASE)
    client = staff(app, "weber", "buergerservice")
    assert "<caption>1 Ticket, älteste zuerst" in client.get("/inbox").text
    add_ticket(app, "AK-TTTT-0002")
    assert "<caption>2 Tickets, älteste zuerst" in client.get("/inbox").text
    assert "Abteilungen: Bürgerservice. Tickets der letzten 14 Tage" in client.get("/inbox/analytics").text


def test_texts_naming_a_department_need_no_article() -> None:
    for text in (HANDED_OVER["de"], TEXTS["de"][1]):
        assert "zuständig: {department}" in text and " bei {department}" not in text and "von {department}" not in text


@pytest.mark.parametrize(("seconds", "text"), [(None, "–"), (89, "1 Min."), (3900, "1 Std. 5 Min.")])
def test_durations_in_hours_and_minutes(seconds: Optional[float], text: str) -> None:
    assert duration(seconds) == text
