""""Add this question as a phrasing" from the missing-topics list (``/inbox/editor/analytics``) and the suggestions
page: a button per topic opens the chosen entry's form with the question appended to ``questions:``."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from typing import Iterator, Tuple

import pytest
from fastapi import FastAPI

from bot.config.settings import Settings
from bot.kb import load_kb
from bot.retrieval.builder import build_index
from bot.retrieval.searcher import FaqSearcher
from bot.staff import passwords
from bot.tickets.models import utcnow
from bot.web.app import create_app
from bot.web.deps import get_searcher_for, get_tracker_engine, services_of
from tests.conftest import ROOT, HashEncoder
from tests.helpers.inbox import staff
from tests.helpers.seeded_trackers import seed_trackers
from tests.helpers.ticket_api import TOKEN


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoder: HashEncoder) -> Iterator[Tuple[FastAPI, Path]]:
    monkeypatch.setattr(passwords, "N", 2**10)
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini_kb", kb)
    app = create_app(Settings(home=tmp_path / "home", api_token=TOKEN, kb_dir=kb,
                              database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}"))
    searcher = FaqSearcher(encoder, index=build_index(load_kb(kb), encoder))
    app.dependency_overrides[get_searcher_for] = lambda: lambda agency: searcher
    trackers = seed_trackers(tmp_path / "trackers.sqlite3", utcnow())
    app.dependency_overrides[get_tracker_engine] = lambda: trackers
    yield app, kb
    services_of(app).close()


def test_each_missing_topic_offers_its_question_as_a_phrasing_of_a_chosen_entry(site: Tuple[FastAPI, Path]) -> None:
    app, kb = site
    editor = staff(app, "redaktion", editor=True)
    text = editor.get("/inbox/editor/analytics?days=30").text
    forms = re.findall(r'<form class="add-phrasing" method="get" action="/inbox/editor/entries/phrasing">(.*?)</form>',
                       text, re.S)
    assert len(forms) == 3 and all("Als Formulierung hinzufügen</button>" in form for form in forms)
    topics = re.findall(r'Nächster Eintrag: .*? <span class="code">\(([a-z0-9-]+)\)</span>.*?'
                        r'<option value="([a-z0-9-]+)" selected>', text, re.S)
    assert len(topics) == 3 and all(nearest == chosen for nearest, chosen in topics)  # the nearest entry is chosen
    near = next(form for form in forms if "Bootsführerschein verlängern" in form)
    assert '<option value="sperrmuell">Wie melde ich Sperrmüll an? (sperrmuell)</option>' in near + \
        near.replace(" selected", "")
    assert 'href="/inbox/editor/entries/new?frage=Bootsf%C3%BChrerschein%20verl%C3%A4ngern"' in near
    moved = editor.get("/inbox/editor/entries/phrasing", params={"frage": "Bootsführerschein verlängern",
                                                                  "eintrag": "sperrmuell"}, follow_redirects=False)
    page = editor.get(moved.headers["location"])
    questions = html.unescape(page.text.split('name="questions"')[1].split(">", 1)[1].split("</textarea>")[0])
    assert questions.split("\n")[-1] == "Bootsführerschein verlängern" and 'id="added"' in page.text
    fresh = editor.get("/inbox/editor/entries/new?frage=Bootsf%C3%BChrerschein%20verl%C3%A4ngern").text
    assert ">Bootsführerschein verlängern</textarea>" in fresh


def test_an_unknown_entry_or_overlong_question_is_a_clear_4xx(site: Tuple[FastAPI, Path]) -> None:
    app, _ = site
    editor = staff(app, "redaktion", editor=True)
    assert editor.get("/inbox/editor/entries/phrasing", params={"eintrag": "nope", "frage": "x"}).status_code == 404
    assert editor.get("/inbox/editor/entries/phrasing", params={"eintrag": "sperrmuell",
                                                                 "frage": "x" * 501}).status_code == 422


def test_a_pending_suggestion_links_to_the_entrys_form_with_its_question(site: Tuple[FastAPI, Path]) -> None:
    from bot.suggestions import service
    from bot.tickets import service as tickets
    from tests.helpers.inbox import add_ticket

    app, _ = site
    add_ticket(app, "AK-2222-2222", question="Sperrmüll & Sofa abholen?")
    with services_of(app).sessions() as session:
        ticket = tickets.get_ticket(session, "AK-2222-2222")
        assert ticket is not None
        service.link(session, ticket, "sperrmuell", "weber", ["sperrmuell"])
    text = staff(app, "redaktion", editor=True).get("/inbox/editor/suggestions").text
    assert 'href="/inbox/editor/entries/sperrmuell/edit?frage=Sperrm%C3%BCll%20%26%20Sofa%20abholen%3F"' in text
