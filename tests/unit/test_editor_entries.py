"""FAQ editing in the browser (``/inbox/editor/entries``) over HTTP: only editors, CSRF, the loader's messages next
to the fields with nothing saved, the file written (and committed in git), conflicts refused, "add as phrasing"."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterator, Tuple

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.config.settings import Settings
from bot.kb.loader import load_entry, load_kb
from bot.staff import passwords
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.conftest import ROOT
from tests.helpers.inbox import CSRF, staff
from tests.helpers.ticket_api import TOKEN

HASH = re.compile(r'name="hash" value="([0-9a-f]*)"')
NEW = {"id": "lagerfeuer", "folder": "freizeit", "title": "Darf ich im Stadtpark ein Lagerfeuer machen?",
       "questions": "Lagerfeuer im Park\nGrillen im Stadtpark erlaubt?", "lang": "de", "tags": "",
       "source": "https://www.stadt.de/park", "owner": "Ordnungsamt", "updated": "2026-11-20",
       "review_by": "2027-06-01", "plain": "Feuer im Park ist **verboten**.", "tests": "Feuer machen im Park?",
       "answer": "Offenes Feuer ist im Stadtpark **verboten**.\n\n- Grillen: nur auf den [Grillplätzen]"
                 "(https://www.stadt.de/grill)"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tuple[FastAPI, Path]]:
    """The app on a copy of the mini kb (not in git unless a test makes it so)."""
    monkeypatch.setattr(passwords, "N", 2**10)
    kb = tmp_path / "repo" / "kb"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini_kb", kb)
    app = create_app(Settings(home=tmp_path / "home", api_token=TOKEN, kb_dir=kb,
                              database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}"))
    yield app, kb
    services_of(app).close()


def form_of(page: str) -> Tuple[str, str]:
    """The CSRF token and content hash of a form page."""
    token, digest = CSRF.search(page), HASH.search(page)
    assert token is not None and digest is not None
    return token.group(1), digest.group(1)


def test_only_editors_may_open_or_post_the_forms(site: Tuple[FastAPI, Path]) -> None:
    app, kb = site
    agent = staff(app, "weber", "buergerservice")
    for path in ("/inbox/editor/entries", "/inbox/editor/entries/new", "/inbox/editor/entries/sperrmuell/edit"):
        assert agent.get(path).status_code == 403, path
    token = CSRF.search(agent.get("/inbox").text)
    assert token is not None
    posted = agent.post("/inbox/editor/entries/new", data={**NEW, "action": "save", "csrf_token": token.group(1)})
    assert posted.status_code == 403 and not (kb / "freizeit").exists()
    assert TestClient(app).get("/inbox/editor/entries/new", follow_redirects=False).status_code == 303


def test_a_post_without_the_csrf_token_is_refused(site: Tuple[FastAPI, Path]) -> None:
    app, kb = site
    editor = staff(app, "roth", editor=True)
    assert editor.post("/inbox/editor/entries/new", data={**NEW, "action": "save"}).status_code == 403
    assert editor.post("/inbox/editor/entries/new", data={**NEW, "action": "save", "csrf_token": "x"}).status_code \
        == 403
    assert not (kb / "freizeit").exists()


def test_the_list_links_every_entry_and_a_new_one(site: Tuple[FastAPI, Path]) -> None:
    app, _ = site
    page = staff(app, "roth", editor=True).get("/inbox/editor/entries").text
    assert 'href="/inbox/editor/entries/sperrmuell/edit"' in page and 'href="/inbox/editor/entries/new"' in page
    assert '<a href="/inbox/editor/entries" aria-current="page">Einträge</a>' in page


def test_preview_renders_the_answer_and_saves_nothing(site: Tuple[FastAPI, Path]) -> None:
    app, kb = site
    editor = staff(app, "roth", editor=True)
    token, _ = form_of(editor.get("/inbox/editor/entries/new").text)
    page = editor.post("/inbox/editor/entries/new", data={**NEW, "action": "preview", "csrf_token": token})
    assert page.status_code == 200 and not (kb / "freizeit").exists()
    rendered = page.text.split('id="answer-rendered">')[1].split("</div>")[0]
    assert rendered.startswith("<p>Offenes Feuer ist im Stadtpark <strong>verboten</strong>.</p><ul><li>")
    assert '<a href="https://www.stadt.de/grill" target="_blank"' in rendered
    assert "der Eintrag kann gespeichert werden" in page.text and 'value="Darf ich im Stadtpark' in page.text


def test_saving_a_new_entry_writes_the_file_the_loader_reads_back(site: Tuple[FastAPI, Path]) -> None:
    app, kb = site
    editor = staff(app, "roth", editor=True)
    token, digest = form_of(editor.get("/inbox/editor/entries/new").text)
    assert digest == ""
    saved = editor.post("/inbox/editor/entries/new", data={**NEW, "action": "save", "csrf_token": token},
                        follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == \
        "/inbox/editor/entries/lagerfeuer/edit?meldung=gespeichert"
    entry = load_entry(kb / "freizeit" / "lagerfeuer.md", kb)
    assert entry.questions == ("Lagerfeuer im Park", "Grillen im Stadtpark erlaubt?")
    assert entry.plain == "Feuer im Park ist **verboten**." and entry.tests == ("Feuer machen im Park?",)
    assert str(entry.updated) == "2026-11-20" and str(entry.review_by) == "2027-06-01"
    assert entry.answer == NEW["answer"] and entry.owner == "Ordnungsamt"
    assert len(load_kb(kb).entries) == 5 and not list(kb.rglob(".*.tmp"))
    page = editor.get(saved.headers["location"]).text
    assert "Gespeichert." in page and 'readonly' in page
    again = editor.post("/inbox/editor/entries/new", data={**NEW, "action": "save", "csrf_token": token})
    assert again.status_code == 409 and "Es gibt schon eine Datei lagerfeuer.md" in again.text


def test_invalid_input_shows_the_loaders_message_at_the_field_and_saves_nothing(site: Tuple[FastAPI, Path]) -> None:
    app, kb = site
    editor = staff(app, "roth", editor=True)
    token, _ = form_of(editor.get("/inbox/editor/entries/new").text)
    bad = {**NEW, "source": "www.stadt.de", "updated": "gestern", "id": "Lager Feuer", "answer": "Kosten: [Platzhalter]",
           "action": "save", "csrf_token": token}
    page = editor.post("/inbox/editor/entries/new", data=bad)
    text = page.text
    assert page.status_code == 422 and "Nicht gespeichert" in text
    assert re.search(r'id="source-meldung-1" class="field-error">Fehler: „www.stadt.de“ ist keine Web-Adresse', text)
    assert 'id="f-source" name="source" value="www.stadt.de" aria-describedby="source-hinweis source-meldung-1" ' \
           'aria-invalid="true"' in text
    assert "„gestern“ in „updated“ ist kein Datum" in text and "„Lager Feuer“ ist keine gültige id" in text
    assert not list(kb.rglob("*Feuer*")) and not (kb / "freizeit").exists()
    placeholder = editor.post("/inbox/editor/entries/new", data={**NEW, "answer": "Kosten: [Platzhalter]",
                                                                  "action": "save", "csrf_token": token})
    assert placeholder.status_code == 422 and "Platzhalter „[Platzhalter]“" in placeholder.text
    assert not (kb / "freizeit").exists()
    escaped = editor.post("/inbox/editor/entries/new", data={**NEW, "title": "<script>x</script>", "folder": "../etc",
                                                              "action": "save", "csrf_token": token})
    assert escaped.status_code == 422 and "<script>x" not in escaped.text and "ist kein gültiger Ordnername" in \
        escaped.text
    assert not (kb.parent / "etc").exists()


def test_a_duplicate_id_is_refused(site: Tuple[FastAPI, Path]) -> None:
    app, kb = site
    editor = staff(app, "roth", editor=True)
    token, _ = form_of(editor.get("/inbox/editor/entries/new").text)
    page = editor.post("/inbox/editor/entries/new", data={**NEW, "id": "sperrmuell", "action": "save",
                                                          "csrf_token": token})
    assert page.status_code == 422 and "sperrmuell" in page.text and 'id="id-meldung-1" class="field-error"' in page.text
    assert len(load_kb(kb).entries) == 4


def test_editing_writes_the_change_and_a_conflicting_edit_is_refused(site: Tuple[FastAPI, Path]) -> None:
    app, kb = site
    path = next(kb.rglob("sperrmuell.md"))
    first, second = staff(app, "roth", editor=True), staff(app, "kurz", editor=True)
    token1, hash1 = form_of(first.get("/inbox/editor/entries/sperrmuell/edit").text)
    token2, hash2 = form_of(second.get("/inbox/editor/entries/sperrmuell/edit").text)
    assert hash1 == hash2 != ""
    fields = {**NEW, "title": "Wie melde ich Sperrmüll an?", "questions": "Abholung von Sperrmüll",
              "answer": "Online anmelden, zweimal im Jahr kostenlos."}
    done = first.post("/inbox/editor/entries/sperrmuell/edit", data={**fields, "id": "anders", "folder": "x",
                                                                     "hash": hash1, "action": "save",
                                                                     "csrf_token": token1}, follow_redirects=False)
    assert done.status_code == 303
    assert load_entry(path, kb).answer == "Online anmelden, zweimal im Jahr kostenlos."
    assert load_entry(path, kb).id == "sperrmuell"  # id and file stay
    late = second.post("/inbox/editor/entries/sperrmuell/edit", data={**fields, "answer": "Meine Fassung.",
                                                                      "hash": hash2, "action": "save",
                                                                      "csrf_token": token2})
    assert late.status_code == 409 and "Die Datei wurde geändert, seit Sie das Formular geöffnet haben" in late.text
    assert "Meine Fassung." in late.text and 'href="/inbox/editor/entries/sperrmuell/edit">Aktuelle Fassung laden' \
        in late.text
    assert load_entry(path, kb).answer == "Online anmelden, zweimal im Jahr kostenlos."


def test_in_a_git_repository_the_save_is_committed_with_the_editor_as_author(site: Tuple[FastAPI, Path]) -> None:
    app, kb = site
    repo = kb.parent
    git(repo, "init", "--quiet", "-b", "main")
    git(repo, "-c", "user.name=Setup", "-c", "user.email=setup@example.org", "add", "kb")
    git(repo, "-c", "user.name=Setup", "-c", "user.email=setup@example.org", "commit", "--quiet", "-m", "kb")
    editor = staff(app, "roth", editor=True)
    token, _ = form_of(editor.get("/inbox/editor/entries/new").text)
    saved = editor.post("/inbox/editor/entries/new", data={**NEW, "action": "save", "csrf_token": token},
                        follow_redirects=False)
    commit = git(repo, "rev-parse", "HEAD")
    assert saved.status_code == 303 and saved.headers["location"].endswith(f"&commit={commit}")
    assert git(repo, "log", "-1", "--format=%an <%ae>|%s") == \
        "Frau Roth <roth@auskunft.invalid>|kb: lagerfeuer im Browser angelegt"
    assert git(repo, "status", "--porcelain") == ""


def test_add_as_phrasing_opens_the_chosen_entry_with_the_question_appended(site: Tuple[FastAPI, Path]) -> None:
    app, kb = site
    editor = staff(app, "roth", editor=True)
    moved = editor.get("/inbox/editor/entries/phrasing", params={"eintrag": "sperrmuell",
                                                                  "frage": "Wann holt ihr alte Sofas ab?"},
                       follow_redirects=False)
    assert moved.status_code == 303
    page = editor.get(moved.headers["location"]).text
    assert "Abholung von Sperrmüll\nAlte Möbel abholen lassen\nWann holt ihr alte Sofas ab?</textarea>" in page
    assert 'id="added"' in page
    assert "Wann holt" not in next(kb.rglob("sperrmuell.md")).read_text(encoding="utf-8")  # only the form has it
    assert editor.get("/inbox/editor/entries/phrasing", params={"eintrag": "gibt-es-nicht"}).status_code == 404
    assert editor.get("/inbox/editor/entries/..%2Fx/edit").status_code == 404
