"""Learning from handoffs in a real Chromium against the real web service (uvicorn) on a kb in a git repository:
the agent links the ticket to its FAQ entry, the editor accepts the phrasing with one click, the file and the
commit show it. Rasa is not needed for these pages, so only the web service runs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterator, Tuple, cast

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from bot.config.settings import Settings
from bot.kb.loader import load_entry
from bot.staff.auth import create_agent
from bot.web.deps import services_of
from tests.conftest import ROOT
from tests.e2e.browser import NewPage, axe_violations, format_violations
from tests.helpers.inbox import PASSWORD, add_ticket
from tests.helpers.servers import ServerThread, free_port
from tests.helpers.ticket_api import TOKEN

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.browser]
QUESTION = "Mein Perso ist abgelaufen, was muss ich tun?"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Tuple[str, Path]]:
    """The web service on a git-tracked copy of the mini kb, with an agent, an editor and one ticket."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini_kb", repo / "kb")
    git(repo, "init", "--quiet", "-b", "main")
    for args in (("add", "kb"), ("commit", "--quiet", "-m", "kb")):
        git(repo, "-c", "user.name=Setup", "-c", "user.email=setup@example.org", *args)
    settings = Settings(home=tmp_path / "home", api_token=TOKEN, kb_dir=repo / "kb",
                        database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}")
    port = free_port()
    with ServerThread(settings, port) as server:
        app = cast(FastAPI, server.server.config.app)
        with services_of(app).sessions() as session:
            create_agent(session, "weber", "Frau Weber", PASSWORD, ["buergerservice"], False,
                         known=services_of(app).departments)
            create_agent(session, "roth", "Frau Roth", PASSWORD, [], False, known=services_of(app).departments,
                         is_editor=True)
        add_ticket(app, "AK-7777-7777", question=QUESTION)
        yield f"http://127.0.0.1:{port}", repo


def log_in(page: Page, base: str, username: str, then: str) -> None:
    page.goto(base + then)
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(re.compile(re.escape(then) + "$"))


def test_the_agent_links_the_entry_and_the_editor_accepts_the_phrasing(new_page: NewPage,
                                                                       web: Tuple[str, Path]) -> None:
    base, repo = web
    agent = new_page().page
    log_in(agent, base, "weber", "/inbox/tickets/AK-7777-7777")
    agent.get_by_label("FAQ-Eintrag", exact=True).select_option("personalausweis")
    agent.get_by_role("button", name="Eintrag vermerken").click()
    expect(agent.locator("#link-state")).to_contain_text("wartet auf die Redaktion")
    expect(agent.get_by_role("status").filter(has_text="FAQ-Eintrag ist vermerkt")).to_be_visible()

    editor = new_page(bypass_csp=True).page  # axe-core is injected inline
    log_in(editor, base, "roth", "/inbox/editor")
    editor.get_by_role("link", name="Vorschläge aus der Bearbeitung").click()
    row = editor.get_by_role("row").filter(has_text=QUESTION)
    expect(row).to_contain_text("personalausweis")
    violations = axe_violations(editor)
    assert not violations, format_violations(violations)
    row.get_by_role("button", name="Übernehmen").click()
    expect(editor.get_by_role("status").filter(has_text="in den Eintrag übernommen")).to_be_visible()
    expect(editor.locator("#no-suggestions")).to_be_visible()

    assert load_entry(repo / "kb/buergeramt/personalausweis.md").questions[-1] == QUESTION
    assert git(repo, "log", "-1", "--format=%an <%ae>") == "Frau Roth <roth@auskunft.invalid>"
    agent.reload()
    expect(agent.locator("#link-state")).to_contain_text("von der Redaktion übernommen")
