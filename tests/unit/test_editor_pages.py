"""The editor pages at /inbox/editor over HTTP (TestClient on a real SQLite database, offline index):
who may see them, the "ask as a citizen" preview, the kb check report and the FAQ analytics; plus the
editor role (model, migration, CLI) and the preview module behind ``auskunft ask``."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.config.settings import Settings
from bot.db.engine import make_engine
from bot.db.upgrade import alembic_config, upgrade_to_head
from bot.decision import DecisionConfig, IntentExamples
from bot.editor.preview import preview
from bot.feedback.models import Feedback
from bot.kb import load_kb
from bot.retrieval.builder import build_index
from bot.retrieval.index import FaqIndex
from bot.retrieval.searcher import FaqSearcher
from bot.retrieval.store import IndexStore
from bot.staff import passwords
from bot.staff.auth import can_edit
from bot.staff.models import Agent
from bot.tickets.models import utcnow
from bot.web.app import create_app
from bot.web.deps import get_searcher_for, get_tracker_engine, services_of
from bot.web.routers.editor import percent
from tests.conftest import ROOT, HashEncoder
from tests.helpers.inbox import PASSWORD, add_ticket, staff
from tests.helpers.seeded_trackers import seed_trackers
from tests.helpers.ticket_api import TOKEN

BROKEN_KB = ROOT / "tests" / "fixtures" / "broken_kb"
MINI_KB = ROOT / "tests" / "fixtures" / "mini_kb"


def fixed_index(encoder: HashEncoder) -> FaqIndex:
    return build_index(load_kb(MINI_KB), encoder)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoder: HashEncoder) -> Iterator[FastAPI]:
    """An app on SQLite whose editor pages search a small index built offline (no model is loaded)."""
    monkeypatch.setattr(passwords, "N", 2**10)
    settings = Settings(home=tmp_path / "home", api_token=TOKEN, kb_dir=BROKEN_KB,
                        database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}")
    app = create_app(settings)
    searcher = FaqSearcher(encoder, index=fixed_index(encoder))
    app.dependency_overrides[get_searcher_for] = lambda: lambda agency: searcher
    yield app
    services_of(app).close()


# --- who may see the pages -------------------------------------------------------------------------------------


def test_an_agent_who_is_no_editor_gets_a_german_403_page(app: FastAPI) -> None:
    client = staff(app, "weber", "buergerservice")
    for path in ("/inbox/editor", "/inbox/editor?q=Sperrm%C3%BCll", "/inbox/editor/check", "/inbox/editor/analytics"):
        page = client.get(path, follow_redirects=False)
        assert page.status_code == 403, path
        assert "Kein Zugriff auf die Redaktion" in page.text and "Sperrmüll" not in page.text
        assert 'lang="de"' in page.text and page.headers["cache-control"] == "no-store"
    assert "Redaktion</a>" not in client.get("/inbox").text


def test_anonymous_requests_go_to_the_login(app: FastAPI) -> None:
    client = TestClient(app)
    for path in ("/inbox/editor", "/inbox/editor/check", "/inbox/editor/analytics?days=7"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/inbox/login?next=%2Finbox")


def test_an_editor_without_departments_lands_on_the_editor_pages(app: FastAPI) -> None:
    client = staff(app, "redaktion", editor=True)
    response = client.get("/inbox", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/inbox/editor"
    page = client.get("/inbox/editor").text
    assert "Vorschau: als Bürgerin oder Bürger fragen" in page and '<a href="/inbox/editor" aria-current="page">Redaktion' in page
    assert "Warteschlange</a>" not in page and "(Redaktion)" in page


def test_managers_and_editors_with_departments_see_both(app: FastAPI) -> None:
    for client in (staff(app, "chefin", manager=True), staff(app, "schulz", "standesamt", editor=True)):
        queue = client.get("/inbox").text
        assert "Warteschlange</a>" in queue and 'href="/inbox/editor"' in queue
        assert client.get("/inbox/editor/check").status_code == 200


# --- preview ---------------------------------------------------------------------------------------------------


def test_preview_shows_the_decision_candidates_scores_and_answer(app: FastAPI) -> None:
    client = staff(app, "redaktion", editor=True)
    page = client.get("/inbox/editor", params={"q": "Wie melde ich Sperrmüll an?", "lang": "de"})
    text = page.text
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'id="decision"><strong>Antwort</strong>' in text and "(answer, confident)" in text
    assert '<dd id="confidence">0.786</dd>' in text
    assert re.search(r'<th scope="row">sperrmuell</th>\s*<td>Wie melde ich Sperrmüll an\?</td>\s*'
                     r'<td class="score">0.786</td>', text)
    assert '<td class="score">0.563</td>' in text and "Abfallwirtschaft" in text and "gewählt" in text
    assert "Die Abholung ist zweimal im Jahr kostenlos." in text
    assert 'href="https://musterstadt.example/sperrmuell"' in text
    index_version = app.dependency_overrides[get_searcher_for]()(None).index().version
    assert f"<code>{index_version}</code>" in text and "style=" not in text


def test_preview_of_an_uncertain_question_offers_a_choice(app: FastAPI) -> None:
    text = staff(app, "redaktion", editor=True).get("/inbox/editor?q=Boot+anmelden").text
    assert "Rückfrage mit Auswahl" in text and "(clarify, uncertain)" in text and "Angebotene Auswahl" in text
    assert "angeboten" in text and "Die Abholung ist" not in text


def test_html_in_the_question_is_escaped(app: FastAPI) -> None:
    client = staff(app, "redaktion", editor=True)
    text = client.get("/inbox/editor", params={"q": '<script>alert("x")</script><b>Sperrmüll</b>'}).text
    assert "<script>alert" not in text and "<b>Sperrmüll" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;Sperrmüll&lt;/b&gt;" in text


def test_long_questions_are_refused_and_empty_ones_show_the_form(app: FastAPI) -> None:
    client = staff(app, "redaktion", editor=True)
    assert client.get("/inbox/editor", params={"q": "x" * 2001}).status_code == 422
    page = client.get("/inbox/editor?q=++&lang=xx")
    assert page.status_code == 200 and 'id="decision"' not in page.text and '<label for="q">Frage</label>' in page.text


def test_without_a_model_or_index_the_preview_says_so(app: FastAPI) -> None:
    del app.dependency_overrides[get_searcher_for]  # the real searcher now: the model is not provisioned in home
    client = staff(app, "redaktion", editor=True)
    page = client.get("/inbox/editor?q=Sperrm%C3%BCll")
    assert page.status_code == 503 and "Zurzeit nicht verfügbar" in page.text and "auskunft model provision" in page.text


def test_preview_module_withdraws_overdue_entries_like_the_bot(encoder: HashEncoder) -> None:
    searcher = FaqSearcher(encoder, index=fixed_index(encoder))
    later = date(2027, 6, 1)  # the Personalausweis entry is to be reviewed by 2027-05-01
    no_small_talk = IntentExamples([], np.zeros((0, encoder.dim), dtype=np.float32))  # hash vectors collide
    kept = preview("Personalausweis", searcher, DecisionConfig(), False, "de", today=later, intents=no_small_talk)
    assert (kept.action, kept.faq_id) == ("answer", "personalausweis") and kept.candidates[0].overdue
    assert kept.answer is not None and "46,00" in kept.answer and kept.title and kept.source
    withdrawn = preview("Personalausweis", searcher, DecisionConfig(), True, "de", today=later,
                        intents=no_small_talk)
    assert (withdrawn.action, withdrawn.reason, withdrawn.answer) == ("handoff", "withdrawn", None)
    assert withdrawn.to_dict()["decision"] == "handoff" and withdrawn.to_dict()["candidates"]


def test_auskunft_ask_prints_the_preview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoder: HashEncoder,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from bot import cli

    settings = Settings(home=tmp_path / "home", api_token=TOKEN)
    IndexStore(settings.index_dir).publish(fixed_index(encoder))
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr("bot.embedding.encoder.shared_encoder", lambda name, threads, **_: encoder)
    assert cli.main(["ask", "Wie melde ich Sperrmüll an?"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "decision: answer (confident, confidence 0.786) -> sperrmuell"
    assert lines[1].startswith("language: de   index: ") and lines[2].startswith("  1. 0.786  sperrmuell ")
    assert cli.main(["ask", "Boot anmelden", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["decision"] == "clarify" and data["faq_id"] is None and data["lang"] == "de"
    assert data["candidates"][0]["faq_id"] == "sperrmuell"


# --- kb check report -------------------------------------------------------------------------------------------


def test_check_report_lists_findings_by_file_with_line_owner_and_next_step(app: FastAPI) -> None:
    client = staff(app, "redaktion", editor=True)
    page = client.get("/inbox/editor/check")
    text = page.text
    assert page.status_code == 200 and "Prüfbericht der Wissensdatenbank" in text
    assert "<code>links/kaputte-links.md</code>" in text and "<code>links/kaputte-links.md:18</code>" in text
    assert "[link_empty]" in text and '<span class="severity severity-error">Fehler</span>' in text
    assert "<code>review/ueberfaellig.md:9</code>" in text and "Warnung" in text and "Hinweis" in text
    assert re.search(r'<p class="check-summary" id="summary">Ergebnis: \d+ Fehler, \d+ Warnungen', text)
    assert "Überfällige Überprüfungen" in text and "<th scope=\"row\">review/ueberfaellig.md</th>" in text
    assert "style=" not in text and "<script" not in text
    assert "unverändert seit der letzten Prüfung" in client.get("/inbox/editor/check").text  # cached


# --- analytics -------------------------------------------------------------------------------------------------


def test_analytics_page_shows_containment_missing_topics_and_feedback(app: FastAPI, tmp_path: Path) -> None:
    now = utcnow()
    trackers = seed_trackers(tmp_path / "trackers.sqlite3", now)
    app.dependency_overrides[get_tracker_engine] = lambda: trackers
    add_ticket(app, "AK-AAAA-0001", question="Wo melde ich mein <b>Boot</b> an?", created=now - timedelta(days=2))
    with services_of(app).sessions() as session:
        for helpful in (True, True, True, False):
            session.add(Feedback(conversation_id="c1", faq_id="sperrmuell", helpful=helpful, language="de",
                                 created_at=now - timedelta(days=1)))
        session.add(Feedback(conversation_id="old", faq_id="sperrmuell", helpful=False, language="de",
                             created_at=now - timedelta(days=60)))
        session.commit()
    client = staff(app, "redaktion", editor=True)
    text = client.get("/inbox/editor/analytics?days=30").text
    assert '<strong id="containment">40\xa0%</strong>' in text  # the two answered ones; c4 and c5 got no answer
    assert '<dd id="conversations">5</dd>' in text and '<dd id="contained">2</dd>' in text
    assert '<dd id="questions">5</dd>' in text and '<dd id="answered">2</dd>' in text
    assert '<dd id="unanswered">3</dd>' in text and "Die 10 häufigsten fehlenden Themen" in text
    assert "Bootsführerschein verlängern" in text and "Lastenrad Förderung" in text
    assert "Wo melde ich mein &lt;b&gt;Boot&lt;/b&gt; an?" in text and "<b>Boot" not in text
    topics = re.findall(r'<li>\s*<p class="topic-size">.*?</li>\s*</ul>\s*<p class="nearest">(.*?)</p>', text, re.S)
    assert len(topics) == 3 and sum("Vorschlag: neuer Eintrag?" in t for t in topics) >= 1  # Lastenrad: score 0.000
    assert any("Wert 0.357" in t and "als Frage zu „Wie melde ich Sperrmüll an?“ ergänzen" in t for t in topics)
    row = re.search(r'<th scope="row">Wie melde ich Sperrmüll an\? <span class="code">\(sperrmuell\)</span></th>'
                    r'\s*<td>Abfallwirtschaft</td>\s*<td>1</td>\s*<td>3</td>\s*<td>1</td>\s*<td>(.*?)</td>', text)
    assert row is not None and "75\xa0%" in row.group(1) and 'aria-hidden="true"' in row.group(1)
    assert '<option value="30" selected>letzte 30 Tage</option>' in text and "style=" not in text
    assert client.get("/inbox/editor/analytics?days=0").status_code == 422
    assert 'id="no-log"' not in text


def test_analytics_without_a_tracker_log_counts_tickets_only_and_are_kept_a_minute(
        app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    add_ticket(app, "AK-AAAA-0001", created=utcnow() - timedelta(days=3))
    client = staff(app, "redaktion", editor=True)
    text = client.get("/inbox/editor/analytics?days=7").text
    assert 'id="no-log"' in text and '<strong id="containment">0\xa0%</strong>' in text
    assert '<dd id="conversations">1</dd>' in text and '<option value="7" selected>letzte 7 Tage</option>' in text
    add_ticket(app, "AK-AAAA-0002", created=utcnow() - timedelta(days=1))
    assert '<dd id="conversations">1</dd>' in client.get("/inbox/editor/analytics?days=7").text  # computed < 60 s ago
    assert '<dd id="conversations">2</dd>' in client.get("/inbox/editor/analytics?days=30").text  # another period
    monkeypatch.setattr("bot.web.routers.editor.ANALYTICS_SECONDS", 0.0)
    assert '<dd id="conversations">2</dd>' in client.get("/inbox/editor/analytics?days=7").text


def test_percent_is_german() -> None:
    assert (percent(None), percent(0.75), percent(1 / 3), percent(0.0)) == ("–", "75\xa0%", "33,3\xa0%", "0\xa0%")


# --- the editor role -------------------------------------------------------------------------------------------


def test_editor_column_is_added_to_an_older_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'alt.sqlite3'}"
    engine = make_engine(url, migrate=False)
    with engine.begin() as connection:  # the schema of revision 0005, the last before accounts got agencies
        command.upgrade(alembic_config(connection), "0005")
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE agents DROP COLUMN is_editor")
        connection.exec_driver_sql("DROP TABLE alembic_version")  # as the release before Alembic left it ...
        connection.exec_driver_sql("DROP TABLE outbox_items")  # ... which had no shared outbox yet
        connection.exec_driver_sql("DROP TABLE phrasing_suggestions")  # ... nor links of tickets to FAQ entries
        connection.exec_driver_sql("DROP TABLE limit_hits")  # ... nor the citizens' limit counters
        connection.exec_driver_sql("DROP TABLE limit_notes")
        connection.exec_driver_sql("DROP TABLE staff_audit")  # ... nor the record of account changes
        connection.exec_driver_sql("INSERT INTO agents (username, display_name, password_hash, departments, "
                                   "is_manager, active, created_at) VALUES ('alt', 'Alt', 'x', '[]', 0, 1, "
                                   "'2025-01-01 00:00:00')")
    upgrade_to_head(engine)
    assert "is_editor" in {column["name"] for column in sa.inspect(engine).get_columns("agents")}
    with sa.orm.Session(engine) as session:
        agent = session.execute(sa.select(Agent)).scalar_one()
        assert agent.is_editor is None and not can_edit(agent)
    engine.dispose()


def test_cli_adds_an_editor_without_departments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import build_parser

    settings = Settings(home=tmp_path / "cli", api_token=TOKEN)
    monkeypatch.setattr("bot.config.settings.get_settings", lambda: settings)
    monkeypatch.setenv("AUSKUNFT_AGENT_PASSWORD", PASSWORD)

    def run(*argv: str) -> Any:
        args = build_parser().parse_args(list(argv))
        return args.func(args)

    assert run("agent", "add", "redaktion", "--name", "Frau Redaktion", "--editor") == 0
    assert run("agent", "add", "schulz", "--name", "Herr Schulz", "--department", "standesamt", "--editor") == 0
    assert run("agent", "add", "niemand", "--name", "Niemand") == 1
    assert run("agent", "list") == 0
    out, err = capsys.readouterr()
    assert "agent redaktion (Frau Redaktion) created: editor" in out and "created: Standesamt, editor" in out
    assert "at least one department (or is a manager or an editor)" in err
    listing = {line.split()[0]: line.split()[-2:] for line in out.splitlines()[-2:]}
    assert listing == {"redaktion": ["editor", "-"], "schulz": ["agent+editor", "standesamt"]}


# --- several agencies ------------------------------------------------------------------------------------------


def test_editor_pages_follow_the_chosen_agency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               encoder: HashEncoder) -> None:
    from bot.config.agencies import Agencies
    from bot.publish.build import build_and_publish

    shared, town = tmp_path / "kreis", tmp_path / "adorf"
    for directory, owner_text in ((shared, "Der Kreis holt Sperrmüll ab."), (town, "Der Bauhof Adorf holt ab.")):
        directory.mkdir()
        entry = (MINI_KB / "abfall").glob("*.md").__next__().read_text(encoding="utf-8")
        body_start = entry.index("---", 3) + 3
        (directory / "sperrmuell.md").write_text(entry[:body_start] + "\n" + owner_text + "\n", encoding="utf-8")
    config = tmp_path / "agencies.yml"
    config.write_text("default: kreis\nagencies:\n  kreis: {name: Landkreis, kb: [kreis]}\n"
                      "  adorf: {name: Gemeinde Adorf, kb: [kreis, adorf]}\n", encoding="utf-8")
    monkeypatch.setattr(passwords, "N", 2**10)
    monkeypatch.setattr("bot.embedding.encoder.shared_encoder", lambda name, threads, **_: encoder)
    settings = Settings(home=tmp_path / "home", api_token=TOKEN, agencies_file=config,
                        database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}")
    for agency in Agencies.load(config, settings.kb_dir):
        build_and_publish(agency.layers, agency.index_dir(settings.index_dir), tmp_path / "cache", encoder)
    app = create_app(settings)
    client = staff(app, "redaktion", editor=True)
    question = {"q": "Wer holt Sperrmüll ab?", "lang": "de"}
    town_page = client.get("/inbox/editor", params={**question, "agency": "adorf"}).text
    assert "Bauhof Adorf" in town_page and "Der Kreis holt" not in town_page
    assert "(Gemeinde Adorf)" in town_page and '<option value="adorf" selected>' in town_page
    assert 'href="/inbox/editor/check?agency=adorf"' in town_page  # the choice carries over to the other pages
    district_page = client.get("/inbox/editor", params=question).text
    assert "Der Kreis holt" in district_page and "Bauhof Adorf" not in district_page
    own = client.get("/inbox/editor/check", params={"agency": "adorf"}).text
    assert "adorf (eigene Einträge)" in own and "kreis (gemeinsam genutzt)" in own
    assert client.get("/inbox/editor/check", params={"agency": "adorf", "layer": 1}).status_code == 200
    assert client.get("/inbox/editor/check", params={"agency": "adorf", "layer": 2}).status_code == 404
    assert client.get("/inbox/editor", params={"agency": "bdorf"}).status_code == 404
    assert client.get("/inbox/editor", params={"agency": "../x"}).status_code == 422
    assert client.get("/inbox/editor/analytics", params={"agency": "adorf"}).status_code == 200
    services_of(app).close()
