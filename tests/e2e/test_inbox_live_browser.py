"""An agent's main path in a real Chromium against the real web service (uvicorn): take a ticket, read the transcript
as the citizen saw it, a citizen message arrives and shows up without a reload, reply, resolve; the queue marks a
ticket with a new message (here over the polling fallback, the event stream blocked); axe finds no violations on
the queue and the ticket page. Rasa is not needed: while an agent holds a conversation, /api/chat files the
citizen's message into the ticket without asking the bot."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, cast

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from bot.config.settings import Settings
from bot.staff.auth import create_agent
from bot.web.deps import services_of
from tests.conftest import ROOT
from tests.e2e.browser import NewPage, axe_violations, format_violations, shoot
from tests.helpers.inbox import PASSWORD, add_ticket
from tests.helpers.servers import ServerThread, free_port
from tests.helpers.ticket_api import TOKEN

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.browser]
CASE, OTHER = "AK-7777-7777", "AK-7777-7778"
TRANSCRIPT = [
    {"role": "citizen", "text": "Mein Ausweis ist weg."},
    {"role": "bot", "text": "Meinten Sie eines davon?", "options": ["Personalausweis", "Reisepass"],
     "decision": "clarify", "score": 0.53},
    {"role": "citizen", "text": "[button: choose_faq]", "choice": "Personalausweis"},
    {"role": "bot", "text": "Melden Sie den Verlust **so schnell wie möglich**.", "decision": "answer",
     "faq_id": "personalausweis", "score": 0.91},
    {"role": "citizen", "text": "[button: feedback_not_helpful]"},
]
LIVE_STREAM = re.compile(r".*/inbox/events(\?.*)?$")  # the event stream, not /inbox/events/state


@pytest.fixture
def web(tmp_path: Path) -> Iterator[str]:
    """The web service with an agent of the Bürgerservice, a new ticket and one the agent already holds."""
    settings = Settings(home=tmp_path / "home", api_token=TOKEN, kb_dir=ROOT / "tests" / "fixtures" / "mini_kb",
                        database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}")
    port = free_port()
    with ServerThread(settings, port) as server:
        app = cast(FastAPI, server.server.config.app)
        with services_of(app).sessions() as session:
            create_agent(session, "weber", "Frau Weber", PASSWORD, ["buergerservice"], False,
                         known=services_of(app).departments)
        add_ticket(app, CASE, transcript=TRANSCRIPT, question="Mein Ausweis ist weg.")
        add_ticket(app, OTHER, status="in_progress", assignee="weber", holds_conversation=True)
        yield f"http://127.0.0.1:{port}"


def log_in(page: Page, base: str) -> None:
    page.goto(base + "/inbox")
    page.get_by_label("Benutzername").fill("weber")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))


def citizen_writes(base: str, case: str, text: str) -> None:
    """The citizen's widget sends a message in the conversation of ``case`` (held by an agent: no bot needed)."""
    response = httpx.post(f"{base}/api/chat", json={"sender": f"conv-{case}", "message": text}, timeout=30)
    assert response.status_code == 200 and response.json()[1]["custom"]["decision"] == "human", response.text


def test_the_agent_takes_reads_sees_the_new_message_live_replies_and_resolves(new_page: NewPage, web: str) -> None:
    tab = new_page()  # the page's CSP is enforced: live.js must work as a file
    agent = tab.page
    missing = []  # the pages' requests that failed (the browser's own /favicon.ico is not among them)
    tab.context.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    log_in(agent, web)
    agent.get_by_role("link", name=CASE).click()
    agent.get_by_role("button", name="Mir zuweisen").click()
    expect(agent.get_by_role("status").first).to_contain_text("Sie haben das Ticket übernommen")
    transcript = agent.locator("#transcript")
    expect(transcript.locator("strong", has_text="so schnell wie möglich")).to_be_visible()
    expect(transcript).to_contain_text("Personalausweis (gewählt)")
    expect(transcript).to_contain_text("Nein, hat nicht geholfen")
    expect(transcript).not_to_contain_text("[button:")
    expect(agent.get_by_title(re.compile("Entscheidung: Antwort aus der FAQ"))).to_be_visible()
    live = agent.locator("[data-live-mode]")
    expect(live).to_have_attribute("data-live-mode", "events")
    expect(live).to_have_attribute("data-live-seen", re.compile(r"^[1-9]"))  # the first state is in

    agent.evaluate("window.__notReloaded = true")
    citizen_writes(web, CASE, "Kann ich auch ohne Termin kommen?")
    expect(transcript).to_contain_text("Kann ich auch ohne Termin kommen?", timeout=15_000)
    expect(agent.locator("#live-notice")).to_contain_text("Neue Nachricht im Gesprächsverlauf")
    assert agent.evaluate("window.__notReloaded") is True  # shown without a reload
    agent.locator("#transcript li").last.scroll_into_view_if_needed()
    shoot(agent, "inbox-ticket-live")  # the reply panel stays beside the transcript

    agent.get_by_label("Antwort an die anfragende Person").fill("Ja, von 8 bis 12 Uhr.")
    agent.get_by_role("button", name="Antwort senden").click()
    expect(agent.locator(".flash")).to_contain_text("Die Antwort wurde gesendet")
    agent.get_by_label("Status", exact=True).select_option(label="Erledigt")
    agent.get_by_role("button", name="Status ändern").click()
    expect(agent.locator(".flash")).to_contain_text("Der Status wurde geändert")
    expect(agent.locator(".facts .status")).to_have_text("Erledigt")
    assert [e for e in tab.console_errors if "status of 404" not in e] == [] and missing == [], tab.console_errors
    tab.context.close()  # before the server stops: no event stream left open


def test_the_queue_marks_a_new_message_by_polling_when_the_stream_is_blocked(new_page: NewPage, web: str) -> None:
    tab = new_page()
    tab.context.route(LIVE_STREAM, lambda route: route.abort())
    queue = tab.page
    log_in(queue, web)
    marker = queue.locator(f'tr[data-case="{OTHER}"] .unread')
    expect(marker).to_be_hidden()
    live = queue.locator("[data-live-mode]")
    expect(live).to_have_attribute("data-live-mode", "polling", timeout=30_000)  # the stream failed: it polls
    expect(live).to_have_attribute("data-live-seen", re.compile(r"^[1-9]"))  # the first state is in
    citizen_writes(web, OTHER, "Ist mein Antrag schon da?")
    expect(marker).to_be_visible(timeout=30_000)
    expect(marker).to_have_text("Neue Nachricht")
    expect(queue.locator("#live-notice")).to_contain_text("Die Warteschlange hat sich geändert")
    shoot(queue, "inbox-queue-live")
    tab.context.close()


def test_queue_and_ticket_page_have_no_axe_violations(new_page: NewPage, web: str) -> None:
    tab = new_page(bypass_csp=True)  # axe-core is injected inline
    page = tab.page
    log_in(page, web)
    citizen_writes(web, OTHER, "Noch eine Frage.")
    page.reload()
    expect(page.locator(f'tr[data-case="{OTHER}"] .unread')).to_be_visible()
    violations = axe_violations(page)
    assert not violations, format_violations(violations)
    page.goto(f"{web}/inbox/tickets/{CASE}")
    expect(page.locator("#transcript")).to_contain_text("Personalausweis (gewählt)")
    violations = axe_violations(page)
    assert not violations, format_violations(violations)
    tab.context.close()
