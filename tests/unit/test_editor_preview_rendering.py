"""The editor preview (``/inbox/editor?q=…``) shows the answer rendered as the widget renders it: escaped first,
then paragraphs, lists, bold and safe links only (:func:`bot.web.markdown.render_markdown`)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from fastapi import FastAPI

from bot.config.settings import Settings
from bot.kb import load_kb
from bot.retrieval.builder import build_index
from bot.retrieval.searcher import FaqSearcher
from bot.staff import passwords
from bot.web.app import create_app
from bot.web.deps import get_searcher_for, services_of
from tests.conftest import HashEncoder
from tests.helpers.inbox import staff
from tests.helpers.ticket_api import TOKEN

ENTRY = """---
id: sperrmuell
title: Wie melde ich Sperrmüll an?
questions:
  - Abholung von Sperrmüll
lang: de
source: https://www.stadt.de/sperrmuell
owner: Abfallwirtschaft
updated: 2026-11-01
plain: |
  Sie rufen **an**.
---
Sperrmüll melden Sie **online** an.
Oder am Telefon.

- Termin: [online buchen](https://www.stadt.de/termin)
- Mail: [schreiben](mailto:abfall@stadt.de)
- Böse: [klick](javascript:alert(1)) <script>alert(2)</script>
"""


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoder: HashEncoder) -> Iterator[FastAPI]:
    monkeypatch.setattr(passwords, "N", 2**10)
    kb = tmp_path / "kb"
    (kb / "abfall").mkdir(parents=True)
    (kb / "abfall" / "sperrmuell.md").write_text(ENTRY, encoding="utf-8")
    app = create_app(Settings(home=tmp_path / "home", api_token=TOKEN, kb_dir=kb,
                              database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}"))
    searcher = FaqSearcher(encoder, index=build_index(load_kb(kb), encoder))
    app.dependency_overrides[get_searcher_for] = lambda: lambda agency: searcher
    yield app
    services_of(app).close()


def test_the_preview_renders_the_answer_like_the_widget(app: FastAPI) -> None:
    text = staff(app, "redaktion", editor=True).get("/inbox/editor", params={"q": "Wie melde ich Sperrmüll an?"}).text
    rendered = text.split('id="answer-rendered">')[1].split("</div>")[0]
    assert rendered.startswith("<p>Sperrmüll melden Sie <strong>online</strong> an.<br>Oder am Telefon.</p><ul>")
    assert '<a href="https://www.stadt.de/termin" target="_blank" rel="noopener noreferrer">online buchen' in rendered
    assert '<a href="mailto:abfall@stadt.de">schreiben</a>' in rendered
    assert "javascript:" not in rendered and "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert "<li>Böse: klick &lt;script&gt;" in rendered  # the unsafe link is shown as its text
    assert "**online**" in text.split('class="markdown-source"')[1]  # the source is there too, as text
    plain = text.split('id="plain-rendered">')[1].split("</div>")[0]
    assert plain == "<p>Sie rufen <strong>an</strong>.</p>"
