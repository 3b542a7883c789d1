"""The agents' tools in a real Chromium against the real web service (uvicorn) and a real SMTP server (aiosmtpd):
move through the queue by keyboard and open a ticket, take it, insert a canned reply with its placeholders filled,
send it and see that the citizen's e-mail went out; a manager keeps the canned replies; browser notifications are
asked for only after a click. axe finds no violations in each new state. Screenshots for docs/agents.md."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Iterator, List, Tuple, cast

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from bot.config.settings import Settings
from bot.staff import canned
from bot.staff.auth import create_agent
from bot.web.deps import services_of
from tests.conftest import ROOT
from tests.e2e.browser import NewPage, axe_violations, format_violations, shoot
from tests.helpers.inbox import PASSWORD, add_ticket
from tests.helpers.servers import ServerThread, free_port
from tests.helpers.ticket_api import TOKEN

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.browser]
FIRST, SECOND = "AK-7001-0001", "AK-7001-0002"
BODY = "Guten Tag,\n\nzu Ihrem Anliegen {fallnummer} können Sie ohne Termin kommen.\n\nFreundliche Grüße\n{mitarbeiter}"
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__asked = 0;
  window.__shown = [];
  class Recorded extends Real {
    constructor(title, options) { super(title, options); window.__shown.push([title, options && options.body]); }
  }
  Recorded.requestPermission = () => { window.__asked += 1; return Real.requestPermission(); };
  window.Notification = Recorded;
})();
"""


class Sink:
    """aiosmtpd handler keeping every recipient list."""

    def __init__(self) -> None:
        self.recipients: List[Tuple[str, ...]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's API
        self.recipients.append(tuple(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Tuple[str, FastAPI, Sink]]:
    """The web service with SMTP, an agent and a manager, two new tickets and a canned reply of their department."""
    sink, smtp_port = Sink(), free_port()
    mail = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    mail.start()
    settings = Settings(home=tmp_path / "home", api_token=TOKEN, kb_dir=ROOT / "tests" / "fixtures" / "mini_kb",
                        database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}", smtp_host="127.0.0.1",
                        smtp_port=smtp_port)
    port = free_port()
    with ServerThread(settings, port) as server:
        app = cast(FastAPI, server.server.config.app)
        with services_of(app).sessions() as session:
            known = services_of(app).departments
            create_agent(session, "weber", "Frau Weber", PASSWORD, ["buergerservice"], False, known=known)
            create_agent(session, "chefin", "Frau Chefin", PASSWORD, [], True, known=known)
            canned.create(session, "buergerservice", "Ohne Termin", BODY, "chefin", known)
        add_ticket(app, FIRST, question="Mein Ausweis ist weg.")
        add_ticket(app, SECOND, question="Kann ich ohne Termin kommen?")
        yield f"http://127.0.0.1:{port}", app, sink
    mail.stop()


def log_in(page: Page, base: str, username: str = "weber") -> None:
    page.goto(base + "/inbox")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))


def no_axe_violations(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, format_violations(violations)


def focused_id(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def test_keyboard_queue_canned_reply_and_delivery_state(new_page: NewPage, web: Tuple[str, FastAPI, Sink]) -> None:
    base, _, sink = web
    tab = new_page()  # the CSP is enforced: every script must work as a file
    page = tab.page
    log_in(page, base)
    rows = page.locator("table.queue tbody tr")
    page.keyboard.press("j")  # shortcuts are off until switched on (WCAG 2.1.4)
    expect(page.locator("tr.current")).to_have_count(0)
    toggle = page.get_by_role("button", name="Tastenkürzel einschalten")
    toggle.click()
    expect(page.get_by_role("button", name="Tastenkürzel ausschalten")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    expect(page.get_by_role("link", name=FIRST)).to_be_focused()
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_have_attribute("open", "")
    shoot(page, "inbox-queue-shortcuts")
    page.keyboard.press("?")
    page.get_by_label("Thema").focus()
    page.keyboard.press("j")  # in a field the keys are the field's
    expect(rows.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    page.get_by_role("link", name=FIRST).focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/inbox/tickets/{FIRST}$"))

    page.keyboard.press("t")  # take it
    expect(page.locator(".flash")).to_contain_text("Sie haben das Ticket übernommen")
    page.keyboard.press("r")
    assert focused_id(page) == "reply-text"
    page.keyboard.type("Hallo, tja: ")  # t, j, r typed into the box are text, not shortcuts
    expect(page).to_have_url(re.compile(f"/inbox/tickets/{FIRST}"))
    page.get_by_label("Textbaustein").select_option(label="Ohne Termin")
    page.get_by_role("button", name="Einfügen").click()
    box = page.get_by_label("Antwort an die anfragende Person")
    expect(box).to_have_value("Hallo, tja:\n\nGuten Tag,\n\nzu Ihrem Anliegen AK-7001-0001 können Sie ohne Termin "
                              "kommen.\n\nFreundliche Grüße\nFrau Weber")
    expect(box).to_be_focused()
    expect(page.locator("#canned-status")).to_contain_text("Textbaustein „Ohne Termin“ eingefügt")
    shoot(page, "inbox-ticket-canned")
    page.get_by_role("button", name="Antwort senden").click()
    expect(page.locator(".flash")).to_contain_text("Die Antwort wurde gesendet")
    notice = page.locator(".notice").first
    deadline = time.monotonic() + 20
    while "gesendet am" not in (notice.text_content() or "") and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    expect(notice).to_contain_text(re.compile(r"E-Mail-Benachrichtigung gesendet am \d\d\.\d\d\.\d{4}"))
    assert sink.recipients == [("max@example.org",)]
    notice.scroll_into_view_if_needed()
    shoot(page, "inbox-ticket-notice")
    # the browser's own /favicon.ico is the one 404
    assert [e for e in tab.console_errors if "status of 404" not in e] == [], tab.console_errors
    tab.context.close()  # before the server stops: no event stream left open


def test_a_manager_keeps_the_canned_replies(new_page: NewPage, web: Tuple[str, FastAPI, Sink]) -> None:
    base, _, _ = web
    tab = new_page(bypass_csp=True)  # axe-core is injected inline
    page = tab.page
    log_in(page, base, "chefin")
    page.get_by_role("link", name="Textbausteine").click()
    page.get_by_label("Titel").fill("Unterlagen fehlen")
    page.get_by_label("Text", exact=True).fill("Für {fallnumer} fehlen Unterlagen.")
    page.get_by_role("button", name="Textbaustein anlegen").click()
    expect(page.locator("#body-fehler")).to_contain_text("Unbekannter Platzhalter {fallnumer}")
    expect(page.locator("#department-fehler")).to_contain_text("Bitte wählen Sie eine Abteilung")
    expect(page.get_by_label("Text", exact=True)).to_have_attribute("aria-invalid", "true")
    no_axe_violations(page)
    shoot(page, "inbox-canned-errors")
    page.get_by_label("Abteilung").select_option(label="Bürgerservice")
    page.get_by_label("Text", exact=True).fill("Für {fallnummer} fehlen noch Unterlagen.")
    page.get_by_role("button", name="Textbaustein anlegen").click()
    expect(page.locator(".flash")).to_have_text("Der Textbaustein wurde angelegt.")
    expect(page.get_by_role("link", name="Unterlagen fehlen")).to_be_visible()
    no_axe_violations(page)
    shoot(page, "inbox-canned")
    tab.context.close()


def test_new_states_have_no_axe_violations(new_page: NewPage, web: Tuple[str, FastAPI, Sink]) -> None:
    base, _, _ = web
    tab = new_page(bypass_csp=True)  # axe-core is injected inline
    page = tab.page
    log_in(page, base)
    page.get_by_role("button", name="Tastenkürzel einschalten").click()
    page.keyboard.press("j")
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_have_attribute("open", "")
    no_axe_violations(page)  # the queue with the tools shown, a chosen row and the help open
    page.goto(f"{base}/inbox/tickets/{FIRST}")
    page.get_by_role("button", name="Einfügen").click()
    expect(page.get_by_label("Antwort an die anfragende Person")).to_have_value(re.compile("ohne Termin kommen"))
    no_axe_violations(page)  # the ticket with a canned reply inserted
    page.get_by_role("button", name="Antwort senden").click()
    expect(page.locator(".notice").first).to_be_visible()
    no_axe_violations(page)  # the ticket with the delivery state
    tab.context.close()


def test_notifications_are_asked_for_only_after_the_click(new_page: NewPage,
                                                          web: Tuple[str, FastAPI, Sink]) -> None:
    base, app, _ = web
    tab = new_page()
    tab.context.add_init_script(RECORD_NOTIFICATIONS)
    tab.context.grant_permissions(["notifications"], origin=base)
    page = tab.page
    log_in(page, base)
    live = page.locator("[data-live-mode]")
    expect(live).to_have_attribute("data-live-seen", re.compile(r"^[1-9]"))
    assert page.evaluate("window.__asked") == 0  # never on load
    page.get_by_role("button", name="Benachrichtigungen aktivieren").click()
    expect(page.locator("#notify-state")).to_have_text("Benachrichtigungen sind an.")
    assert page.evaluate("window.__asked") == 1
    expect(page.get_by_role("button", name="Benachrichtigungen ausschalten")).to_be_visible()
    add_ticket(app, "AK-7001-0003", conversation_id="conv-third")
    deadline = time.monotonic() + 20  # polled from here: wait_for_function's string would need 'unsafe-eval'
    while not page.evaluate("window.__shown.length") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert page.evaluate("window.__shown") == [["Neues Ticket", "Fall AK-7001-0003 · Auskunft-Posteingang"]]
    assert [e for e in tab.console_errors if "status of 404" not in e] == [], tab.console_errors
    tab.context.close()
