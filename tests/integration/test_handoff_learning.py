"""Learning from handoffs through the FastAPI app on a real SQLite database and a real git repository in tmp_path:
an agent links a ticket to the FAQ entry that answers it, the question becomes a pending phrasing, an editor
accepts it (the kb file gains it, validated and committed with the editor as author) or rejects it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.config.settings import Settings
from bot.kb.loader import load_entry
from bot.staff import passwords
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.conftest import ROOT
from tests.helpers.inbox import CSRF, add_ticket, staff
from tests.helpers.ticket_api import TOKEN

MINI_KB = ROOT / "tests" / "fixtures" / "mini_kb"
FILE = Path("kb") / "buergeramt" / "personalausweis.md"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose ``kb/`` is a copy of the mini kb, committed by someone else."""
    root = tmp_path / "repo"
    shutil.copytree(MINI_KB, root / "kb")
    git(root, "init", "--quiet", "-b", "main")
    git(root, "-c", "user.name=Setup", "-c", "user.email=setup@example.org", "add", "kb")
    git(root, "-c", "user.name=Setup", "-c", "user.email=setup@example.org", "commit", "--quiet", "-m", "kb")
    return root


@pytest.fixture
def app(tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    monkeypatch.setattr(passwords, "N", 2**10)
    settings = Settings(home=tmp_path / "home", api_token=TOKEN, kb_dir=repo / "kb",
                        database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}")
    made = create_app(settings)
    yield made
    services_of(made).close()


def link(client: TestClient, case: str, faq_id: str) -> str:
    page = client.get(f"/inbox/tickets/{case}")
    token = CSRF.search(page.text)
    assert token is not None
    done = client.post(f"/inbox/tickets/{case}/link", data={"csrf_token": token.group(1), "faq_id": faq_id},
                       follow_redirects=False)
    assert done.status_code == 303
    return client.get(done.headers["location"]).text


def decide(client: TestClient, suggestion_id: str, what: str) -> "tuple[int, str]":
    page = client.get("/inbox/editor/suggestions")
    token = CSRF.search(page.text)
    assert token is not None
    done = client.post(f"/inbox/editor/suggestions/{suggestion_id}/{what}", data={"csrf_token": token.group(1)},
                       follow_redirects=False)
    if done.status_code == 303:
        return 303, client.get(done.headers["location"]).text
    return done.status_code, done.text


def pending_ids(page: str) -> list:
    return re.findall(r'id="vorschlag-(\d+)"', page)


def test_a_linked_question_is_accepted_into_the_kb_file_and_committed_by_the_editor(app: FastAPI, repo: Path) -> None:
    question = "Mein Perso ist <b>abgelaufen</b>, was nun?"
    add_ticket(app, "AK-1111-1111", question=question)
    agent = staff(app, "weber", "buergerservice")
    page = agent.get("/inbox/tickets/AK-1111-1111").text
    assert 'action="/inbox/tickets/AK-1111-1111/link"' in page
    first = page.index('label="Vorschläge des Assistenten"')
    assert first < page.index('value="personalausweis"') < page.index('label="Alle Einträge"')  # candidates first
    assert page.count('value="personalausweis"') == 1 and 'value="sperrmuell"' in page
    after = link(agent, "AK-1111-1111", "personalausweis")
    assert "wartet auf die Redaktion" in after and "Passender FAQ-Eintrag: personalausweis" in after

    editor = staff(app, "lange", editor=True)
    listing = editor.get("/inbox/editor/suggestions")
    assert listing.status_code == 200 and 'href="/inbox/editor/suggestions"' in listing.text
    assert "Mein Perso ist &lt;b&gt;abgelaufen&lt;/b&gt;, was nun?" in listing.text and "<b>abgelaufen" not in listing.text
    assert "weber" in listing.text and "Wie beantrage ich einen Personalausweis?" in listing.text
    (suggestion,) = pending_ids(listing.text)
    before = (repo / FILE).read_text(encoding="utf-8")
    head_before = git(repo, "rev-parse", "HEAD")

    code, page = decide(editor, suggestion, "accept")
    assert code == 303 and "in den Eintrag übernommen" in page and pending_ids(page) == []
    assert load_entry(repo / FILE).questions[-1] == question
    assert (repo / FILE).read_text(encoding="utf-8").replace(f'  - "{question}"\n', "", 1) == before or \
        (repo / FILE).read_text(encoding="utf-8").replace(f"  - {question}\n", "", 1) == before
    assert git(repo, "rev-parse", "HEAD~1") == head_before
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn") == "Frau Lange <lange@auskunft.invalid>|Frau Lange"
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == "kb/buergeramt/personalausweis.md"
    assert git(repo, "status", "--porcelain") == ""
    assert "von der Redaktion übernommen" in agent.get("/inbox/tickets/AK-1111-1111").text

    code, again = decide(editor, suggestion, "accept")  # decided already: refused, nothing written twice
    assert code == 409 and "schon entschieden" in again
    assert load_entry(repo / FILE).questions.count(question) == 1


def test_reject_no_entry_duplicates_and_an_unknown_entry(app: FastAPI, repo: Path) -> None:
    add_ticket(app, "AK-2222-2222", question="Sperrmüll abholen lassen?")
    add_ticket(app, "AK-3333-3333", question="Gibt es hier Parkausweise?")
    add_ticket(app, "AK-4444-4444", question="wie beantrage ich einen  PERSONALAUSWEIS?")
    agent = staff(app, "weber", "buergerservice")
    assert "Ungültige Auswahl" in link(agent, "AK-2222-2222", "gibt-es-nicht")
    link(agent, "AK-2222-2222", "sperrmuell")
    assert "kein FAQ-Eintrag passt" in link(agent, "AK-3333-3333", "__kein__")
    link(agent, "AK-4444-4444", "personalausweis")
    editor = staff(app, "lange", editor=True)
    listing = editor.get("/inbox/editor/suggestions").text
    assert "Parkausweise" not in listing  # "no entry fits" suggests no phrasing
    rejected, duplicate = pending_ids(listing)
    head = git(repo, "rev-parse", "HEAD")
    before = (repo / "kb/abfall/sperrmuell.md").read_bytes()

    code, page = decide(editor, rejected, "reject")
    assert code == 303 and "abgelehnt" in page and pending_ids(page) == [duplicate]
    assert (repo / "kb/abfall/sperrmuell.md").read_bytes() == before
    code, page = decide(editor, duplicate, "accept")
    assert code == 303 and "hatte diese Formulierung schon" in page
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""
    assert "von der Redaktion abgelehnt" in agent.get("/inbox/tickets/AK-2222-2222").text


def test_an_invalid_kb_file_is_left_as_it_was_and_the_page_says_why(app: FastAPI, repo: Path) -> None:
    add_ticket(app, "AK-5555-5555", question="Hund anmelden?")
    agent = staff(app, "weber", "buergerservice")
    link(agent, "AK-5555-5555", "hundesteuer-anmelden")
    path = repo / "kb/steuern/hundesteuer-anmelden.md"
    broken = path.read_text(encoding="utf-8").replace("lang: de", "lang: xx")
    path.write_text(broken, encoding="utf-8")
    editor = staff(app, "lange", editor=True)
    (suggestion,) = pending_ids(editor.get("/inbox/editor/suggestions").text)
    code, page = decide(editor, suggestion, "accept")
    assert code == 409 and "Nicht übernommen" in page and "ungültig" in page and 'role="alert"' in page
    assert path.read_text(encoding="utf-8") == broken
    assert pending_ids(page) == [suggestion]


def test_only_editors_decide_and_every_form_needs_the_csrf_token(app: FastAPI) -> None:
    add_ticket(app, "AK-6666-6666")
    agent = staff(app, "weber", "buergerservice")
    assert agent.post("/inbox/tickets/AK-6666-6666/link", data={"faq_id": "sperrmuell"}).status_code == 403
    link(agent, "AK-6666-6666", "sperrmuell")
    assert agent.get("/inbox/editor/suggestions").status_code == 403
    token = CSRF.search(agent.get("/inbox/tickets/AK-6666-6666").text)
    assert token is not None
    assert agent.post("/inbox/editor/suggestions/1/accept", data={"csrf_token": token.group(1)}).status_code == 403
    editor = staff(app, "lange", editor=True)
    assert editor.post("/inbox/editor/suggestions/1/reject", data={}).status_code == 403
    assert pending_ids(editor.get("/inbox/editor/suggestions").text) == ["1"]
