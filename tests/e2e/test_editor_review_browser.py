"""The editors' review queue and the live preview in a real Chromium against the real web service (uvicorn, with
``editor_review`` on): editor A changes an entry, the preview follows the typing (the widget's own renderer, under
the inbox's strict Content-Security-Policy), the save becomes a draft; A cannot approve it; editor B sees the diff
and approves it, the file is written; a second draft is refused after the file changed on disk. axe-core checks
every state. The last test runs beside the whole stack (``auskunft run``): a draft approved there is answered by the
running bot."""

from __future__ import annotations

import shutil
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Tuple, cast

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from bot.config.settings import Settings
from bot.kb.loader import load_entry
from bot.staff.auth import create_agent
from bot.web.deps import services_of
from tests.conftest import ROOT
from tests.e2e.browser import NewPage, axe_violations, format_violations, shoot
from tests.e2e.conftest import Running
from tests.helpers.inbox import PASSWORD
from tests.helpers.servers import ServerThread, free_port

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.browser]
TOKEN = "review-browser-test-token-0123456789abcdef"
LIVE_WITHIN_S = 60.0
QUESTION = "Gibt es im Rathaus einen Wickelraum für Babys?"
ANSWER = "Sperrmüll melden Sie **online** an.\n\n- zweimal im Jahr kostenlos\n- [Termine](https://www.stadt.de/t)"


@contextmanager
def review_web(tmp_path: Path, kb: Path) -> Iterator[str]:
    """A web service with the review queue on over ``kb`` and two editors, ``anna`` and ``bert``."""
    settings = Settings(home=tmp_path / "home", api_token=TOKEN, kb_dir=kb, editor_review=True,
                        database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}")
    port = free_port()
    with ServerThread(settings, port) as server:
        app = cast(FastAPI, server.server.config.app)
        with services_of(app).sessions() as session:
            for name in ("anna", "bert"):
                create_agent(session, name, f"Frau {name.title()}", PASSWORD, [], False,
                             known=services_of(app).departments, is_editor=True)
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Tuple[str, Path]]:
    """The review web service on a copy of the mini kb."""
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini_kb", kb)
    with review_web(tmp_path, kb) as base:
        yield base, kb


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/inbox")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def clean(page: Page, state: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"{state}: " + format_violations(violations)


def propose(page: Page, base: str, answer: str) -> None:
    page.goto(base + "/inbox/editor/entries/sperrmuell/edit")
    page.get_by_label("Antwort (Markdown)").fill(answer)
    page.get_by_role("button", name="Zur Freigabe einreichen").click()
    expect(page.locator("#notice")).to_contain_text("Ihr Entwurf ist eingereicht")


def test_live_preview_follows_typing_under_the_strict_policy(new_page: NewPage, web: Tuple[str, Path]) -> None:
    base, _ = web
    tab = new_page()  # the CSP is enforced: the preview script and the widget's renderer are files of this origin
    log_in(tab.page, base, "anna")
    tab.page.goto(base + "/inbox/editor/entries/sperrmuell/edit")
    region = tab.page.get_by_role("region", name="Vorschau der Antwort beim Tippen")
    expect(region).to_be_visible()
    assert region.get_attribute("aria-live") is None
    tab.page.get_by_label("Antwort (Markdown)").fill("")
    tab.page.get_by_label("Antwort (Markdown)").press_sequentially("Bitte **rechtzeitig** anmelden", delay=5)
    expect(region.locator("strong")).to_have_text("rechtzeitig")
    tab.page.get_by_label("Antwort (Markdown)").fill(ANSWER)
    expect(region.locator("li")).to_have_count(2)
    expect(region.locator("a")).to_have_attribute("href", "https://www.stadt.de/t")


def test_a_second_editor_approves_the_author_cannot_and_a_stale_draft_is_refused(
        new_page: NewPage, web: Tuple[str, Path]) -> None:
    base, kb = web
    path = kb / "abfall" / "sperrmuell.md"
    anna, bert = new_page(bypass_csp=True).page, new_page(bypass_csp=True).page  # axe-core is injected inline
    log_in(anna, base, "anna")
    anna.goto(base + "/inbox/editor/entries/sperrmuell/edit")
    anna.get_by_label("Antwort (Markdown)").fill(ANSWER)
    expect(anna.locator("#live-answer strong")).to_have_text("online")
    clean(anna, "entry form with the live preview")
    anna.locator("#live-answer").scroll_into_view_if_needed()
    shoot(anna, "editor-entry-live-preview")
    anna.get_by_role("button", name="Zur Freigabe einreichen").click()
    expect(anna.locator("#notice")).to_contain_text("Ihr Entwurf ist eingereicht")
    expect(anna.locator("#approve")).to_have_count(0)  # the author is offered withdraw only
    expect(anna.locator("#own-draft")).to_be_visible()
    clean(anna, "own draft")
    refused = anna.request.post(anna.url.split("?")[0] + "/approve",
                                form={"csrf_token": anna.locator("input[name=csrf_token]").first.input_value()})
    assert refused.status == 403 and "Sie können Ihren eigenen Entwurf nicht freigeben" in refused.text()
    assert "**online**" not in path.read_text(encoding="utf-8")

    log_in(bert, base, "bert")
    bert.get_by_role("link", name="Freigaben").click()
    clean(bert, "review list")
    bert.get_by_role("link", name="Entwurf 1").click()
    diff = bert.get_by_role("region", name="Vergleich mit der aktuellen Datei")
    expect(diff.locator("ins").first).to_contain_text("Sperrmüll melden Sie **online** an.")
    expect(diff.locator("del").first).to_be_visible()
    clean(bert, "draft with its diff")
    shoot(bert, "editor-review-draft")
    bert.get_by_role("button", name="Freigeben und speichern").click()
    expect(bert.locator("#notice")).to_contain_text("Freigegeben und gespeichert.")
    clean(bert, "approved draft")
    assert load_entry(path, kb).answer == ANSWER

    propose(anna, base, "Eine zweite Fassung.")
    path.write_text(path.read_text(encoding="utf-8").replace("online", "im Netz"), encoding="utf-8")
    bert.goto(base + "/inbox/editor/review/2")
    expect(bert.locator("#stale")).to_be_visible()
    bert.get_by_role("button", name="Freigeben und speichern").click()
    expect(bert.locator("#failure")).to_contain_text("Die Datei wurde inzwischen geändert")
    clean(bert, "refused approval")
    assert "Eine zweite Fassung." not in path.read_text(encoding="utf-8")


def ask(services: Running, question: str) -> str:
    """The bot's reply texts to one question through the running web service's chat proxy."""
    response = httpx.post(f"{services.web}/api/chat", json={"sender": uuid.uuid4().hex, "message": question},
                          timeout=30)
    response.raise_for_status()
    return " ".join(m.get("text") or "" for m in response.json())


def test_an_approved_draft_is_answered_by_the_running_bot(new_page: NewPage, services: Running,
                                                          tmp_path: Path) -> None:
    entry_id = f"wickelraum-{uuid.uuid4().hex[:6]}"
    marker = f"Wickeltisch im Erdgeschoss {entry_id[-6:]}"
    path = services.kb / "freizeit" / f"{entry_id}.md"
    try:
        with review_web(tmp_path, services.kb) as base:  # the editors' web service beside the running stack
            anna, bert = new_page(bypass_csp=True).page, new_page(bypass_csp=True).page
            log_in(anna, base, "anna")
            anna.goto(base + "/inbox/editor/entries/new")
            anna.get_by_label("id (Dateiname)").fill(entry_id)
            anna.get_by_label("Ordner (Thema)").fill("freizeit")
            anna.get_by_label("Titel (die Frage, wie Bürgerinnen und Bürger sie stellen)").fill(QUESTION)
            anna.get_by_label("Weitere Formulierungen (eine pro Zeile)").fill(
                "Wickelraum im Rathaus\nWo kann ich im Rathaus mein Baby wickeln?")
            anna.get_by_label("Quelle (Adresse der amtlichen Seite)").fill("https://musterstadt.example/rathaus")
            anna.get_by_label("Zuständig (Abteilung)").fill("Bürgerservice")
            anna.get_by_label("Antwort (Markdown)").fill(f"Ja. Der **{marker}** ist frei zugänglich.")
            anna.get_by_role("button", name="Zur Freigabe einreichen").click()
            expect(anna.locator("#notice")).to_contain_text("Ihr Entwurf ist eingereicht")
            assert not path.exists()
            assert marker not in ask(services, QUESTION)  # also warms Rasa up

            log_in(bert, base, "bert")
            bert.get_by_role("link", name="Freigaben").click()
            bert.get_by_role("link", name="Entwurf 1").click()
            expect(bert.get_by_role("region", name="Vergleich mit der aktuellen Datei")).to_contain_text(marker)
            bert.get_by_role("button", name="Freigeben und speichern").click()
            expect(bert.locator("#notice")).to_contain_text("Freigegeben und gespeichert.")
            approved = time.monotonic()
            assert path.is_file()
            answered_after = None
            while answered_after is None and time.monotonic() - approved < LIVE_WITHIN_S:
                if marker in ask(services, QUESTION):
                    answered_after = time.monotonic() - approved
                else:
                    time.sleep(0.25)
            print(f"answered {answered_after} s after the approval")
            assert answered_after is not None, f"not answered within {LIVE_WITHIN_S} s of the approval"
    finally:
        path.unlink(missing_ok=True)  # the session's other tests see the shipped kb again
