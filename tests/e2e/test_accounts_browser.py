"""Staff accounts in a real Chromium against the real web service (uvicorn): a manager creates an account on
``/inbox/accounts`` (first with a mistake, shown next to the field), and the new agent logs in. axe-core checks the
page in both states. Rasa is not needed for these pages, so only the web service runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, cast

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from bot.config.settings import Settings
from bot.staff.auth import create_agent
from bot.web.deps import services_of
from tests.e2e.browser import NewPage, axe_violations, format_violations
from tests.helpers.inbox import PASSWORD
from tests.helpers.servers import ServerThread, free_port
from tests.helpers.ticket_api import TOKEN

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.browser]
NEW_PASSWORD = "ein-neues-konto-passwort"


@pytest.fixture
def web(tmp_path: Path) -> Iterator[str]:
    """The web service with one manager, ``chefin``."""
    settings = Settings(home=tmp_path / "home", api_token=TOKEN,
                        database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}")
    port = free_port()
    with ServerThread(settings, port) as server:
        app = cast(FastAPI, server.server.config.app)
        with services_of(app).sessions() as session:
            create_agent(session, "chefin", "Frau Chefin", PASSWORD, [], True, known=services_of(app).departments)
        yield f"http://127.0.0.1:{port}"


def log_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/inbox")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()


def check_accessible(page: Page, what: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"{what}: " + format_violations(violations)


def test_a_manager_creates_an_account_and_the_new_agent_logs_in(new_page: NewPage, web: str) -> None:
    manager = new_page(bypass_csp=True).page  # axe-core is injected inline
    log_in(manager, web, "chefin", PASSWORD)
    manager.get_by_role("link", name="Konten").click()
    expect(manager.get_by_role("heading", name="Konten", exact=True)).to_be_visible()
    check_accessible(manager, "accounts page")

    form = manager.locator("form[action='/inbox/accounts']")
    form.get_by_label("Benutzername").fill("meier")
    form.get_by_label("Name", exact=True).fill("Herr Meier")
    form.get_by_role("group", name="Abteilungen").get_by_label("Standesamt").check()
    form.get_by_label("Passwort", exact=True).fill(NEW_PASSWORD)
    form.get_by_label("Passwort wiederholen").fill(NEW_PASSWORD + "!")  # a typo first
    form.get_by_role("button", name="Konto anlegen").click()
    expect(manager.get_by_role("alert")).to_contain_text("Das Konto wurde nicht angelegt")
    password = manager.locator("form[action='/inbox/accounts']").get_by_label("Passwort", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(re.compile("stimmen nicht überein"))
    check_accessible(manager, "accounts page with a mistake")

    form = manager.locator("form[action='/inbox/accounts']")
    expect(form.get_by_label("Benutzername")).to_have_value("meier")  # kept, except the passwords
    expect(form.get_by_role("group", name="Abteilungen").get_by_label("Standesamt")).to_be_checked()
    form.get_by_label("Passwort", exact=True).fill(NEW_PASSWORD)
    form.get_by_label("Passwort wiederholen").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Konto anlegen").click()
    expect(manager.get_by_role("status")).to_contain_text("Das Konto wurde angelegt")
    expect(manager.locator("#konto-meier")).to_contain_text("Standesamt")
    expect(manager.locator("table.audit")).to_contain_text("Konto angelegt")
    check_accessible(manager, "accounts page after creating")
    manager.get_by_role("link", name="Herr Meier").click()
    expect(manager.get_by_role("heading", name="Konto meier")).to_be_visible()
    check_accessible(manager, "the page of one account")

    agent = new_page().page
    log_in(agent, web, "meier", NEW_PASSWORD)
    expect(agent.get_by_role("heading", name="Warteschlange")).to_be_visible()
    expect(agent.get_by_role("link", name="Konten")).to_have_count(0)


def test_a_manager_reads_the_figures_and_exports_them_as_csv(new_page: NewPage, web: str) -> None:
    manager = new_page(bypass_csp=True).page  # axe-core is injected inline
    log_in(manager, web, "chefin", PASSWORD)
    manager.get_by_role("link", name="Auswertung").click()
    expect(manager.get_by_role("heading", name="Auswertung", exact=True)).to_be_visible()
    check_accessible(manager, "analytics page")
    manager.get_by_role("link", name="Letzte 90 Tage").click()
    expect(manager.get_by_role("link", name="Letzte 90 Tage")).to_have_attribute("aria-current", "page")
    check_accessible(manager, "analytics page, 90 days")
    with manager.expect_download() as download:
        manager.get_by_role("link", name=re.compile("^Je Abteilung als CSV herunterladen")).click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".csv"), download.value.suggested_filename
    header = Path(path).read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.split(";")[0] == "Abteilung", header
