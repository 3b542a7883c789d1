"""Canned replies: the managers' page (CSRF, messages at the field, audit) and the insert on a ticket page, on SQLite
and PostgreSQL (TestClient against the real app)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.config.settings import Settings
from bot.staff import canned, passwords
from bot.staff.canned import CannedReplyError
from bot.staff.models import CannedReply, StaffAudit
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.helpers.inbox import CSRF, add_ticket, staff
from tests.helpers.postgres import DATABASES, drop_postgres, postgres_url
from tests.helpers.ticket_api import TOKEN

CASE = "AK-CANN-0001"
BODY = "Guten Tag,\n\nzu Ihrem Anliegen {fallnummer} meldet sich {mitarbeiter} ({abteilung}) bei Ihnen."


@pytest.fixture(params=DATABASES)
def app(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    monkeypatch.setattr(passwords, "N", 2**10)  # cheaper scrypt for speed
    url = f"sqlite:///{tmp_path / 'tickets.sqlite3'}" if request.param == "sqlite" else postgres_url()
    app = create_app(Settings(home=tmp_path / "home", api_token=TOKEN, database_url=url))
    yield app
    services_of(app).engine.dispose()
    if request.param == "postgresql":
        drop_postgres(url)


def token(client: TestClient, path: str) -> str:
    found = CSRF.search(client.get(path).text)
    assert found is not None
    return found.group(1)


def test_a_manager_creates_edits_and_deletes_a_canned_reply_and_each_change_is_audited(app: FastAPI) -> None:
    chefin = staff(app, "chefin", manager=True)
    csrf = token(chefin, "/inbox/canned-replies")
    created = chefin.post("/inbox/canned-replies", data={"csrf_token": csrf, "department": "buergerservice",
                                                         "title": " Rückruf ", "body": BODY}, follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == "/inbox/canned-replies?meldung=angelegt"
    page = chefin.get(created.headers["location"]).text
    assert "Der Textbaustein wurde angelegt." in page and ">Rückruf</a>" in page and "Bürgerservice" in page
    with services_of(app).sessions() as db:
        row = db.query(CannedReply).one()
        assert (row.title, row.department, row.updated_by) == ("Rückruf", "buergerservice", "chefin")
    changed = chefin.post(f"/inbox/canned-replies/{row.id}", data={
        "csrf_token": csrf, "department": "standesamt", "title": "Rückruf", "body": BODY}, follow_redirects=False)
    assert changed.headers["location"].endswith("meldung=gespeichert")
    same = chefin.post(f"/inbox/canned-replies/{row.id}", data={
        "csrf_token": csrf, "department": "standesamt", "title": "Rückruf", "body": BODY}, follow_redirects=False)
    assert same.headers["location"].endswith("meldung=unveraendert")
    removed = chefin.post(f"/inbox/canned-replies/{row.id}/remove", data={"csrf_token": csrf},
                          follow_redirects=False)
    assert removed.headers["location"].endswith("meldung=geloescht")
    with services_of(app).sessions() as db:
        assert db.query(CannedReply).count() == 0
        audit = [(a.action, a.actor, a.target, (a.detail or {}).get("changed"))
                 for a in db.query(StaffAudit).order_by(StaffAudit.id)]
    assert audit == [("canned_created", "chefin", f"baustein:{row.id}", None),
                     ("canned_updated", "chefin", f"baustein:{row.id}", "department"),
                     ("canned_removed", "chefin", f"baustein:{row.id}", None)]
    history = chefin.get("/inbox/canned-replies").text
    assert history.count("<td>Rückruf</td>") == 3 and "<td>Abteilung</td>" in history
    assert "canned_" not in chefin.get("/inbox/accounts").text  # not an account change


def test_invalid_input_is_refused_with_the_message_at_each_field_and_nothing_is_saved(app: FastAPI) -> None:
    chefin = staff(app, "chefin", manager=True)
    csrf = token(chefin, "/inbox/canned-replies")
    refused = chefin.post("/inbox/canned-replies", data={"csrf_token": csrf, "department": "mond",
                                                         "title": "", "body": "Ihr Fall {fallnumer} <b>"})
    assert refused.status_code == 400
    page = refused.text
    assert 'id="department-fehler">Bitte wählen Sie eine Abteilung aus der Liste.' in page
    assert 'id="title-fehler">Bitte geben Sie einen Titel' in page
    assert "Unbekannter Platzhalter {fallnumer}. Möglich sind: {fallnummer}, {abteilung}" in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="body-fehler body-hinweis"' in page
    assert "Ihr Fall {fallnumer} &lt;b&gt;</textarea>" in page  # kept for correcting, escaped
    with services_of(app).sessions() as db:
        assert db.query(CannedReply).count() == 0 and db.query(StaffAudit).count() == 0


def test_without_the_csrf_token_or_as_an_agent_nothing_changes(app: FastAPI) -> None:
    agent = staff(app, "weber", "buergerservice")
    assert agent.get("/inbox/canned-replies").status_code == 403
    csrf = token(agent, "/inbox")
    assert agent.post("/inbox/canned-replies", data={"csrf_token": csrf, "department": "buergerservice",
                                                     "title": "X", "body": "Y"}).status_code == 403
    chefin = staff(app, "chefin", manager=True)
    assert chefin.post("/inbox/canned-replies", data={"department": "buergerservice", "title": "X",
                                                      "body": "Y"}).status_code == 403
    with services_of(app).sessions() as db:
        assert db.query(CannedReply).count() == 0


def _seed(app: FastAPI) -> int:
    with services_of(app).sessions() as db:
        row = canned.create(db, "buergerservice", "Rückruf", BODY, "chefin", services_of(app).departments)
        canned.create(db, "standesamt", "Urkunde", "Ihre Urkunde liegt bereit.", "chefin",
                      services_of(app).departments)
        return int(row.id)


def test_the_ticket_page_offers_only_its_departments_replies_with_the_placeholders_filled(app: FastAPI) -> None:
    reply_id = _seed(app)
    add_ticket(app, CASE)
    page = staff(app, "weber", "buergerservice").get(f"/inbox/tickets/{CASE}").text
    filled = f"Guten Tag,\n\nzu Ihrem Anliegen {CASE} meldet sich Frau Weber (Bürgerservice) bei Ihnen."
    assert f'<option value="{reply_id}" data-text="{html.escape(filled)}"' in page
    assert "Urkunde" not in page  # another department's text
    assert 'formaction="/inbox/tickets/AK-CANN-0001/insert" formnovalidate>Einfügen</button>' in page


def test_without_javascript_einfuegen_shows_the_page_with_the_text_added_to_what_was_typed(app: FastAPI) -> None:
    reply_id = _seed(app)
    add_ticket(app, CASE)
    agent = staff(app, "weber", "buergerservice")
    csrf = token(agent, f"/inbox/tickets/{CASE}")
    shown = agent.post(f"/inbox/tickets/{CASE}/insert", data={"csrf_token": csrf, "baustein": str(reply_id),
                                                              "text": "Hallo <Herr> Muster,"})
    assert shown.status_code == 200 and "Der Textbaustein steht im Antwortfeld." in shown.text
    box = re.search(r'<textarea id="reply-text"[^>]*>(.*?)</textarea>', shown.text, re.S)
    assert box is not None
    assert html.unescape(box.group(1)) == f"Hallo <Herr> Muster,\n\nGuten Tag,\n\nzu Ihrem Anliegen {CASE} meldet " \
                                          "sich Frau Weber (Bürgerservice) bei Ihnen."
    assert f'<option value="{reply_id}" data-text=' in shown.text and " selected>Rückruf" in shown.text
    with services_of(app).sessions() as db:  # nothing was sent
        from bot.tickets import service
        ticket = service.get_ticket(db, CASE)
        assert ticket is not None and ticket.replies == []
    other = agent.post(f"/inbox/tickets/{CASE}/insert", data={"csrf_token": csrf, "baustein": "999999"})
    assert other.status_code == 400 and "Bitte wählen Sie einen Textbaustein." in other.text
    assert agent.post(f"/inbox/tickets/{CASE}/insert", data={"baustein": str(reply_id)}).status_code == 403


def test_an_agent_of_another_department_cannot_insert_into_the_ticket(app: FastAPI) -> None:
    reply_id = _seed(app)
    add_ticket(app, CASE)
    other = staff(app, "kurz", "standesamt")
    csrf = token(other, "/inbox")
    assert other.post(f"/inbox/tickets/{CASE}/insert",
                      data={"csrf_token": csrf, "baustein": str(reply_id)}).status_code == 404


def test_the_checks_of_the_service_name_the_field() -> None:
    with pytest.raises(CannedReplyError) as err:
        canned.check_body("{fallnummer} {name}")
    assert (err.value.field, err.value.code) == ("body", "unknown_placeholder")
    assert canned.fill("{fallnummer} {thema} {x} {{fallnummer}}", {"fallnummer": "AK-1", "thema": "Pass"}) == \
        "AK-1 Pass {x} {AK-1}"
    assert canned.check_title("  Termin   vereinbaren ") == "Termin vereinbaren"
    with pytest.raises(CannedReplyError):
        canned.check_title("x" * 121)
