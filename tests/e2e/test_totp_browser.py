"""The second factor in a real Chromium against the real web service: an agent sets it up on *Zweiter Faktor*
(typing the shown secret into "the app", here pyotp), logs out, and logs in with password and code. axe-core
checks the set-up page and the code step; the login page offers the identity provider when one is configured."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator, cast

import pyotp
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


@pytest.fixture
def web(tmp_path: Path) -> Iterator[str]:
    settings = Settings(home=tmp_path / "home", api_token=TOKEN, database_url=f"sqlite:///{tmp_path / 't.sqlite3'}")
    port = free_port()
    with ServerThread(settings, port) as server:
        app = cast(FastAPI, server.server.config.app)
        with services_of(app).sessions() as session:
            create_agent(session, "weber", "Frau Weber", PASSWORD, ["buergerservice"], known=services_of(app).departments)
        yield f"http://127.0.0.1:{port}"


def _accessible(page: Page, what: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"{what}: " + format_violations(violations)


def test_an_agent_sets_up_the_second_factor_and_logs_in_with_a_code(new_page: NewPage, web: str) -> None:
    page = new_page(bypass_csp=True).page  # axe-core is injected inline
    page.goto(web + "/inbox")
    expect(page.get_by_role("link", name="Mit dem Dienstkonto anmelden")).to_have_count(0)  # no provider here
    page.get_by_label("Benutzername").fill("weber")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.get_by_role("link", name="Zweiter Faktor").click()
    expect(page.get_by_role("heading", name="Zweiter Faktor")).to_be_visible()
    _accessible(page, "the set-up page")
    totp = pyotp.TOTP(page.locator("#totp-schluessel").inner_text().replace(" ", ""))
    page.get_by_label("Code aus der App").fill(totp.now())
    page.get_by_role("button", name="Zweiten Faktor einrichten").click()
    expect(page.get_by_role("status")).to_contain_text("ist eingerichtet")
    expect(page.locator("#totp-status")).to_be_visible()

    page.get_by_role("button", name="Abmelden").click()
    page.get_by_label("Benutzername").fill("weber")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Code eingeben")).to_be_visible()
    _accessible(page, "the code step")
    page.get_by_label("Code").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="Bestätigen").click()
    expect(page.get_by_role("alert")).to_contain_text("Der Code ist falsch")
    _accessible(page, "the code step with a wrong code")
    time.sleep(1.1)  # a wrong code makes the next attempt wait a second
    page.get_by_label("Code").fill(totp.at(time.time() + 30))  # the next step: the set-up used the current one
    page.get_by_role("button", name="Bestätigen").click()
    expect(page.get_by_role("heading", name="Warteschlange")).to_be_visible()
