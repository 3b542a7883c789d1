"""The editors' review queue (``AUSKUNFT_EDITOR_REVIEW``) over HTTP, on SQLite and PostgreSQL: a save becomes a draft,
a second editor sees its diff and approves it (the file is written and committed with author and approver), the
author cannot approve it, a file changed meanwhile refuses the approval, rejection needs a note, the author
withdraws; and the queue's plain functions."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.config.settings import Settings
from bot.editor import review_queue as queue
from bot.editor.entry_check import check_text
from bot.editor.entry_store import file_hash
from bot.kb.loader import load_entry
from bot.staff import passwords
from bot.staff.models import KbDraft
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.conftest import ROOT
from tests.helpers.inbox import CSRF, staff
from tests.helpers.postgres import DATABASES, drop_postgres, postgres_url

TOKEN = "review-queue-test-token-0123456789abcdef"  # any 32+ characters
HASH = re.compile(r'name="hash" value="([0-9a-f]*)"')
EDIT = {"title": "Wie melde ich Sperrmüll an?", "questions": "Abholung von Sperrmüll\nSperrmüll bestellen",
        "lang": "de", "tags": "", "source": "https://www.stadt.de/sperrmuell", "owner": "Abfallwirtschaft",
        "updated": "2026-11-20", "review_by": "", "plain": "", "tests": "",
        "answer": "Online anmelden, zweimal im Jahr **kostenlos**."}
NEW = {**EDIT, "id": "lagerfeuer", "folder": "freizeit", "title": "Darf ich im Stadtpark ein Lagerfeuer machen?",
       "questions": "Lagerfeuer im Park\nGrillen im Stadtpark erlaubt?", "owner": "Ordnungsamt",
       "answer": "Offenes Feuer ist im Stadtpark verboten."}
Site = Tuple[FastAPI, Path]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(params=DATABASES)
def site(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """The app with the review queue on, on a copy of the mini kb, with SQLite or a fresh PostgreSQL database."""
    monkeypatch.setattr(passwords, "N", 2**10)
    kb = tmp_path / "repo" / "kb"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini_kb", kb)
    url = f"sqlite:///{tmp_path / 'tickets.sqlite3'}" if request.param == "sqlite" else postgres_url()
    app = create_app(Settings(home=tmp_path / "home", api_token=TOKEN, kb_dir=kb, database_url=url,
                              editor_review=True))
    yield app, kb
    services_of(app).close()
    if request.param == "postgresql":
        drop_postgres(url)


def propose(client: TestClient, fields: dict, path: str = "/inbox/editor/entries/sperrmuell/edit") -> Tuple[int, str]:
    """Open the form, post "save" with ``fields``; the draft's number and the redirect's target."""
    page = client.get(path).text
    token, digest = CSRF.search(page), HASH.search(page)
    assert token is not None and digest is not None
    done = client.post(path, data={**fields, "hash": digest.group(1), "action": "save",
                                   "csrf_token": token.group(1)}, follow_redirects=False)
    assert done.status_code == 303, done.text
    found = re.match(r"/inbox/editor/review/(\d+)\?meldung=eingereicht$", done.headers["location"])
    assert found is not None, done.headers["location"]
    return int(found.group(1)), done.headers["location"]


def act(client: TestClient, draft: int, verb: str, **data: str) -> object:
    """Post approve / reject / withdraw with the page's CSRF token."""
    token = CSRF.search(client.get(f"/inbox/editor/review/{draft}").text)
    assert token is not None
    return client.post(f"/inbox/editor/review/{draft}/{verb}", data={"csrf_token": token.group(1), **data},
                       follow_redirects=False)


def drafts(app: FastAPI) -> List[Tuple[int, str, str, str]]:
    with services_of(app).sessions() as session:
        return [(d.id, d.status, d.author, d.reviewer or "") for d in session.query(KbDraft).order_by(KbDraft.id)]


def test_the_queue_is_off_by_default() -> None:
    assert Settings().editor_review is False


def test_a_save_becomes_a_draft_that_a_second_editor_approves(site: Site) -> None:
    app, kb = site
    path = kb / "abfall" / "sperrmuell.md"
    before = path.read_text(encoding="utf-8")
    roth, kurz = staff(app, "roth", editor=True), staff(app, "kurz", editor=True)
    form = roth.get("/inbox/editor/entries/sperrmuell/edit").text
    assert "Zur Freigabe einreichen" in form and 'href="/inbox/editor/review"' in form
    number, target = propose(roth, EDIT)
    assert path.read_text(encoding="utf-8") == before  # nothing written yet
    assert drafts(app) == [(number, "draft", "roth", "")]
    assert "Ihr Entwurf ist eingereicht" in roth.get(target).text
    listing = kurz.get("/inbox/editor/review").text
    assert f'href="/inbox/editor/review/{number}">Entwurf {number}</a>' in listing and "Frau Roth" in listing
    page = kurz.get(f"/inbox/editor/review/{number}").text
    assert "<ins><span class=\"visually-hidden\">hinzugefügt: </span><span aria-hidden=\"true\">+ </span>" \
           "Online anmelden, zweimal im Jahr **kostenlos**.</ins>" in page
    assert "<del><span class=\"visually-hidden\">entfernt: </span>" in page
    fields = re.search(r'id="draft-fields">([^<]*)<', page)
    assert fields is not None and "Formulierungen" in fields.group(1) and "Antwort" in fields.group(1)
    assert "Titel" not in fields.group(1)  # unchanged
    assert "<strong>kostenlos</strong>" in page and 'id="approve"' in page
    approved = act(kurz, number, "approve")
    assert approved.status_code == 303  # type: ignore[attr-defined]
    assert load_entry(path, kb).answer == EDIT["answer"]
    assert drafts(app) == [(number, "approved", "roth", "kurz")]
    done = kurz.get(approved.headers["location"]).text  # type: ignore[attr-defined]
    assert "Freigegeben und gespeichert." in done and "freigegeben (Frau Kurz," in done
    assert "Zuletzt entschieden" in kurz.get("/inbox/editor/review").text


def test_the_author_cannot_approve_the_own_draft(site: Site) -> None:
    app, kb = site
    roth = staff(app, "roth", editor=True)
    number, _ = propose(roth, EDIT)
    page = roth.get(f"/inbox/editor/review/{number}").text
    assert 'id="approve"' not in page and 'id="own-draft"' in page and 'id="withdraw"' in page
    refused = act(roth, number, "approve")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "Sie können Ihren eigenen Entwurf nicht freigeben" in refused.text  # type: ignore[attr-defined]
    assert drafts(app)[0][1] == "draft" and "**kostenlos**" not in (kb / "abfall" / "sperrmuell.md").read_text()


def test_an_approval_after_the_file_changed_is_refused_and_the_draft_stays(site: Site) -> None:
    app, kb = site
    path = kb / "abfall" / "sperrmuell.md"
    roth, kurz = staff(app, "roth", editor=True), staff(app, "kurz", editor=True)
    number, _ = propose(roth, EDIT)
    changed = path.read_text(encoding="utf-8").replace("Sperrmüll", "Sperrmüll (geändert)", 1)
    path.write_text(changed, encoding="utf-8")
    assert "Datei inzwischen geändert" in kurz.get("/inbox/editor/review").text
    refused = act(kurz, number, "approve")
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert "Die Datei wurde inzwischen geändert" in refused.text  # type: ignore[attr-defined]
    assert path.read_text(encoding="utf-8") == changed and drafts(app)[0][1] == "draft"


def test_rejecting_needs_a_note_and_only_the_author_withdraws(site: Site) -> None:
    app, kb = site
    roth, kurz = staff(app, "roth", editor=True), staff(app, "kurz", editor=True)
    first, _ = propose(roth, EDIT)
    empty = act(kurz, first, "reject", note="  ")
    assert empty.status_code == 422 and "warum Sie den Entwurf ablehnen" in empty.text  # type: ignore[attr-defined]
    assert act(kurz, first, "reject", note="Bitte <b>Gebühr</b> nennen.").status_code == 303  # type: ignore
    page = roth.get(f"/inbox/editor/review/{first}").text
    assert "Bitte &lt;b&gt;Gebühr&lt;/b&gt; nennen." in page and "abgelehnt (Frau Kurz," in page
    again = act(kurz, first, "approve")
    assert again.status_code == 409 and "bereits abgelehnt" in again.text  # type: ignore[attr-defined]
    second, _ = propose(roth, EDIT)
    assert act(kurz, second, "withdraw").status_code == 403  # type: ignore[attr-defined]
    assert act(roth, second, "withdraw").status_code == 303  # type: ignore[attr-defined]
    assert drafts(app) == [(first, "rejected", "roth", "kurz"), (second, "withdrawn", "roth", "roth")]
    assert "**kostenlos**" not in (kb / "abfall" / "sperrmuell.md").read_text(encoding="utf-8")


def test_a_new_entry_is_created_on_approval_and_committed_with_author_and_approver(site: Site) -> None:
    app, kb = site
    repo = kb.parent
    git(repo, "init", "--quiet", "-b", "main")
    git(repo, "-c", "user.name=Setup", "-c", "user.email=setup@example.org", "add", "kb")
    git(repo, "-c", "user.name=Setup", "-c", "user.email=setup@example.org", "commit", "--quiet", "-m", "kb")
    roth, kurz = staff(app, "roth", editor=True), staff(app, "kurz", editor=True)
    number, _ = propose(roth, NEW, "/inbox/editor/entries/new")
    assert not (kb / "freizeit").exists()
    assert "Alle Zeilen sind neu" in kurz.get(f"/inbox/editor/review/{number}").text
    approved = act(kurz, number, "approve")
    commit = git(repo, "rev-parse", "HEAD")
    assert approved.headers["location"].endswith(f"&commit={commit}")  # type: ignore[attr-defined]
    assert load_entry(kb / "freizeit" / "lagerfeuer.md", kb).answer == NEW["answer"]
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s") == (
        "Frau Roth <roth@auskunft.invalid>|Frau Kurz <kurz@auskunft.invalid>|"
        f"kb: freizeit/lagerfeuer.md im Browser angelegt (Entwurf Nr. {number}, freigegeben von kurz)")
    assert git(repo, "status", "--porcelain") == ""


def test_only_editors_see_the_queue(site: Site) -> None:
    app, _ = site
    roth = staff(app, "roth", editor=True)
    number, _ = propose(roth, EDIT)
    agent = staff(app, "weber", "buergerservice")
    assert agent.get("/inbox/editor/review").status_code == 403
    assert agent.get(f"/inbox/editor/review/{number}").status_code == 403
    assert roth.get("/inbox/editor/review/999").status_code == 404
    token = CSRF.search(agent.get("/inbox").text)
    assert token is not None
    assert agent.post(f"/inbox/editor/review/{number}/approve",
                      data={"csrf_token": token.group(1)}).status_code == 403
    assert drafts(app)[0][1] == "draft"


def test_the_diff_and_the_changed_fields(tmp_path: Path) -> None:
    layer = tmp_path / "kb"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini_kb", layer)
    current = (layer / "abfall" / "sperrmuell.md").read_text(encoding="utf-8")
    proposed = current.replace("\n---\n", "\n---\nNeuer erster Satz.\n", 1)
    lines = queue.diff_lines(current, proposed)
    assert [line.text for line in lines if line.kind == "+"] == ["Neuer erster Satz."]
    assert not [line for line in lines if line.kind == "-"]
    old = check_text(current, "abfall/sperrmuell.md", layer, own_path="abfall/sperrmuell.md")
    new = check_text(proposed, "abfall/sperrmuell.md", layer, own_path="abfall/sperrmuell.md")
    assert queue.changed_fields(old, new) == ("Antwort",)
    assert queue.diff_lines(current, current) == []
    assert queue.stale(KbDraft(path="abfall/sperrmuell.md", base_sha=file_hash(layer / "abfall" / "sperrmuell.md")),
                       layer) is False


def test_a_draft_path_outside_the_kb_is_refused(tmp_path: Path) -> None:
    with pytest.raises(queue.ReviewError, match="kein gültiger Pfad"):
        queue.propose(None, "x", tmp_path, "../etc/passwd.md", "text", "", "roth")  # type: ignore[arg-type]
