"""The inbox's helpers around a ticket: "Als Formulierung hinzufügen" for editors, and the markup the keyboard
shortcuts and browser notifications build on (hidden without JavaScript, no inline script, documented keys)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.config.settings import Settings
from bot.staff import passwords
from bot.web.app import create_app
from tests.conftest import ROOT
from tests.helpers.inbox import add_ticket, staff
from tests.helpers.ticket_api import TOKEN

CASE = "AK-TOOL-0001"
QUESTION = "Ich habe meinen Perso verloren, was nun?"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.setattr(passwords, "N", 2**10)  # cheaper scrypt for speed
    return create_app(Settings(home=tmp_path / "home", api_token=TOKEN, kb_dir=ROOT / "tests" / "fixtures" / "mini_kb",
                               database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}"))


def phrasing_form(page: str) -> str:
    found = re.search(r'<form class="add-phrasing".*?</form>', page, re.S)
    return found.group(0) if found else ""


def test_an_editor_adds_the_tickets_question_as_a_phrasing_of_an_entry(app: FastAPI) -> None:
    add_ticket(app, CASE, question=QUESTION)
    editor = staff(app, "lang", "buergerservice", editor=True)
    form = phrasing_form(editor.get(f"/inbox/tickets/{CASE}").text)
    assert 'action="/inbox/editor/entries/phrasing"' in form and 'method="get"' in form
    assert f'name="frage" value="{html.escape(QUESTION)}"' in form
    first = re.search(r'<optgroup label="Vorschläge des Assistenten">\s*<option value="([^"]+)"', form)
    assert first is not None and first.group(1) == "personalausweis"  # the bot's candidate in the kb comes first
    assert ">Als Formulierung hinzufügen</button>" in form
    # submitting it as a browser does: the entry's form opens with the question added, nothing is saved yet
    query = {"frage": QUESTION, "eintrag": "personalausweis"}
    opened = editor.get("/inbox/editor/entries/phrasing", params=query, follow_redirects=False)
    assert opened.status_code == 303
    target = urlsplit(opened.headers["location"])
    assert target.path == "/inbox/editor/entries/personalausweis/edit" and dict(parse_qsl(target.query)) == \
        {"frage": QUESTION}
    page = editor.get(opened.headers["location"]).text
    assert "Die Frage steht jetzt als letzte Formulierung" in page and html.escape(QUESTION) in page


def test_agents_who_are_not_editors_and_requests_without_a_question_get_no_phrasing_form(app: FastAPI) -> None:
    add_ticket(app, CASE, question=QUESTION)
    add_ticket(app, "AK-TOOL-0002", question="-", reason="asked_for_human", conversation_id="conv-2")
    agent = staff(app, "weber", "buergerservice")
    assert phrasing_form(agent.get(f"/inbox/tickets/{CASE}").text) == ""
    editor = staff(app, "lang", "buergerservice", editor=True)
    assert phrasing_form(editor.get("/inbox/tickets/AK-TOOL-0002").text) == ""


def test_shortcuts_and_notifications_are_offered_hidden_until_a_script_shows_them(app: FastAPI) -> None:
    add_ticket(app, CASE)
    agent = staff(app, "weber", "buergerservice")
    queue = agent.get("/inbox").text
    ticket = agent.get(f"/inbox/tickets/{CASE}").text
    for page in (queue, ticket):
        assert '<section class="inbox-tools" id="inbox-tools" aria-labelledby="h-tools" hidden>' in page
        assert '<button type="button" id="shortcuts-toggle" aria-pressed="false"' in page
        assert '<button type="button" id="notify-toggle" hidden>Benachrichtigungen aktivieren</button>' in page
        assert "<script>" not in page and " on" + "click=" not in page  # the CSP allows no inline script
    assert "<dt><kbd>j</kbd></dt><dd>nächstes Ticket in der Liste</dd>" in queue
    assert "<dt><kbd>t</kbd></dt><dd>gewähltes Ticket übernehmen (mir zuweisen)</dd>" in queue
    assert "<dt><kbd>r</kbd></dt><dd>zum Antwortfeld springen</dd>" in ticket
    assert '<form id="take-form" method="post" action="/inbox" hidden>' in queue
    for script in ("keys.js", "notify.js"):
        assert f'<script src="/inbox-static/{script}" defer></script>' in queue
    assert '<script src="/inbox-static/canned.js" defer></script>' in ticket


def test_the_scripts_are_served_and_ask_for_permission_only_in_a_click_handler(app: FastAPI) -> None:
    client = TestClient(app)
    notify = client.get("/inbox-static/notify.js")
    keys = client.get("/inbox-static/keys.js")
    assert notify.status_code == keys.status_code == client.get("/inbox-static/canned.js").status_code == 200
    clicks = notify.text.index('button.addEventListener("click"')
    assert notify.text.count("requestPermission") == 1 and notify.text.index("requestPermission") > clicks
    assert "typing(event.target)" in keys.text and "event.ctrlKey || event.altKey || event.metaKey" in keys.text
