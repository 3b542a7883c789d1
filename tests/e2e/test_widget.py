"""The citizen chat widget in a real browser (Debian Chromium) against the real running services.

Each test opens the example city site that ``auskunft run`` serves, with the widget embedded by
its one script tag. Screenshots of the widget's states go to docs/screenshots (docs/widget.md).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List

import httpx
import pytest
from playwright.sync_api import Route, expect

from tests.conftest import ROOT
from tests.e2e.browser import BrowserTab, NewPage, axe_violations, format_violations, same_origin_only, shoot
from tests.e2e.conftest import Running
from tests.e2e.widget import STORE_KEY, Widget
from tests.helpers.servers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.browser]
XSS = "<img src=x onerror=alert(1)>"


def open_site(new_page: NewPage, services: Running, path: str = "/", **options: object) -> tuple[BrowserTab, Widget]:
    tab = new_page(**options)  # type: ignore[arg-type]
    tab.page.goto(services.web + path)
    widget = Widget(tab.page)
    expect(widget.launcher).to_be_visible()
    return tab, widget


def assert_accessible(tab: BrowserTab, state: str) -> None:
    violations = axe_violations(tab.page)
    assert not violations, f"state '{state}': " + format_violations(violations)


def assert_private(tab: BrowserTab, services: Running) -> None:
    assert same_origin_only(tab.requests, services.web) == []
    assert tab.context.cookies() == []
    assert tab.page.evaluate("() => document.cookie") == ""
    assert tab.page.evaluate("() => localStorage.length") == 0
    assert tab.page.evaluate("() => Object.keys(sessionStorage)") in ([], [STORE_KEY])


def test_german_conversation_answer_with_source_and_feedback(new_page: NewPage, services: Running) -> None:
    tab, widget = open_site(new_page, services)
    assert tab.page.evaluate("() => Object.keys(sessionStorage)") == []  # nothing stored before the citizen writes
    widget.open()
    assert widget.focused() == "ak-input"
    answer = widget.ask("Mein Personalausweis wurde gestohlen, was muss ich tun?")
    expect(answer).to_contain_text("Quelle")
    source = answer.locator("a", has_text="Personalausweis")
    expect(source).to_have_attribute("target", "_blank")
    expect(source).to_have_attribute("rel", "noopener noreferrer")
    assert source.get_attribute("href", timeout=1000).startswith("https://")
    shoot(tab.page, "widget-answer")

    thanks = widget.choose("Ja")
    expect(thanks).to_contain_text("freut mich")
    sender = widget.stored()["id"]  # type: ignore[index]
    votes = httpx.get(f"{services.web}/api/feedback", params={"conversation_id": sender},
                      headers={"Authorization": f"Bearer {services.token}"}).json()
    assert [(v["faq_id"], v["helpful"]) for v in votes] == [("personalausweis-verloren", True)]
    assert tab.console_errors == [] and tab.dialogs == []
    assert_private(tab, services)


def test_plain_language_version_with_one_click(new_page: NewPage, services: Running) -> None:
    tab, widget = open_site(new_page, services, bypass_csp=True)
    widget.open()
    answer = widget.ask("Ich habe meinen Perso verloren, was nun?")
    plain = answer.get_by_role("button", name="In Einfacher Sprache lesen")
    plain.click()
    shown = widget.bot_messages.last
    expect(shown).to_contain_text("Einfache Sprache")
    expect(shown).to_contain_text("Dann gehen Sie schnell zum Bürgeramt.")
    expect(plain).to_have_count(0)  # one click, then it is there
    assert widget.focused() == "ak-input"
    shoot(tab.page, "widget-plain-language")
    assert_accessible(tab, "plain language")


def test_clarify_buttons_then_handoff_with_email_ends_in_a_case_number(new_page: NewPage, services: Running) -> None:
    tab, widget = open_site(new_page, services, bypass_csp=True)
    widget.open()
    offer = widget.ask("Wie bekomme ich einen Angelschein?")
    if widget.page.locator(".ak-log button", has_text="Nichts davon").count():
        shoot(tab.page, "widget-clarify")
        assert_accessible(tab, "clarify")
        offer = widget.choose("Nichts davon")
    expect(offer).to_contain_text("weiterleiten")
    email_question = widget.choose("Ja, weiterleiten")
    expect(email_question).to_contain_text("E-Mail")
    email = tab.page.get_by_label("E-Mail-Adresse (freiwillig)")
    email.fill("buerger@example.org")
    shoot(tab.page, "widget-handoff")
    assert_accessible(tab, "handoff form")
    before = widget.bot_messages.count()
    email.press("Enter")
    created = widget.wait_for_bot(before)
    expect(created).to_contain_text("Fallnummer")
    case = widget.stored()["cases"][-1]  # type: ignore[index]
    expect(created.locator("strong")).to_have_text(case)
    expect(widget.case).to_have_text(f"Ihre Fallnummer: {case}")

    auth = {"Authorization": f"Bearer {services.token}"}
    ticket = httpx.get(f"{services.web}/api/tickets/{case}", headers=auth).json()
    assert ticket["email"] == "buerger@example.org" and ticket["conversation_id"] == widget.stored()["id"]  # type: ignore[index]
    reply = "Guten Tag, Angelscheine stellt das Ordnungsamt aus. Termin: **Mo–Fr** unter [Ordnungsamt](https://example.org/ordnungsamt)."
    httpx.post(f"{services.web}/api/tickets/{case}/replies", json={"author": "Frau Weber", "text": reply},
               headers=auth).raise_for_status()
    agent = tab.page.locator(".ak-msg.ak-agent")
    expect(agent).to_have_count(1, timeout=25_000)  # the widget polls for staff replies
    expect(agent).to_contain_text(f"Antwort der Verwaltung, Fall {case}")
    expect(agent.locator("strong")).to_have_text("Mo–Fr")
    shoot(tab.page, "widget-agent-reply")
    assert_accessible(tab, "agent reply")


def test_reload_and_navigation_keep_the_conversation_going(new_page: NewPage, services: Running) -> None:
    tab, widget = open_site(new_page, services)
    widget.open()
    widget.ask("Ich möchte bitte mit einem Menschen sprechen")
    before = widget.texts()
    tab.page.reload()
    expect(widget.panel).to_be_visible()
    assert widget.texts() == before
    tab.page.locator("a", has_text="Bürgerservice").first.click()  # another page of the same site
    tab.page.wait_for_url("**/buergerservice")
    expect(widget.panel).to_be_visible()
    assert widget.texts() == before
    email_question = widget.choose("Ja, weiterleiten")  # the server-side conversation continues (the form)
    expect(email_question).to_contain_text("E-Mail")
    assert tab.console_errors == []
    assert_private(tab, services)


def test_keyboard_only_through_answer_feedback_and_handoff(new_page: NewPage, services: Running) -> None:
    tab, widget = open_site(new_page, services)
    page = tab.page
    for _ in range(12):  # skip link, site navigation, ... then the launcher
        page.keyboard.press("Tab")
        if widget.focused() == "Fragen? Chat öffnen":
            break
    assert widget.focused() == "Fragen? Chat öffnen"
    assert widget.focus_ring() != "none"
    page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    assert widget.focused() == "ak-input"
    before = widget.bot_messages.count()
    page.keyboard.type("Wie melde ich Sperrmüll an?")
    page.keyboard.press("Enter")
    widget.wait_for_bot(before)
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        if widget.focused() == "Ja":
            break
    assert widget.focused() == "Ja" and widget.focus_ring() != "none"
    before = widget.bot_messages.count()
    page.keyboard.press("Enter")
    expect(widget.wait_for_bot(before)).to_contain_text("freut mich")
    assert widget.focused() == "ak-input"

    before = widget.bot_messages.count()
    page.keyboard.type("Ich möchte mit einem Menschen sprechen")
    page.keyboard.press("Enter")
    widget.wait_for_bot(before)
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        if widget.focused() == "Ja, weiterleiten":
            break
    before = widget.bot_messages.count()
    page.keyboard.press("Space")
    widget.wait_for_bot(before)
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        if widget.focused() == "Ohne E-Mail weiter":
            break
    before = widget.bot_messages.count()
    page.keyboard.press("Enter")
    expect(widget.wait_for_bot(before)).to_contain_text("Fallnummer")
    page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    assert widget.focused() == "Fragen? Chat öffnen"
    page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    assert widget.focused() == "ak-input"


def test_accessibility_of_each_state(new_page: NewPage, services: Running) -> None:
    tab, widget = open_site(new_page, services, bypass_csp=True)
    assert_accessible(tab, "closed")
    widget.open()
    shoot(tab.page, "widget-open")
    assert_accessible(tab, "open, welcome")
    widget.ask("Wann wird der Sperrmüll abgeholt?")
    assert_accessible(tab, "answer")
    tab.page.locator(".ak-text-button", has_text="Gespräch löschen").click()
    expect(tab.page.locator(".ak-confirm")).to_be_visible()
    assert widget.focused() == "Abbrechen"
    assert_accessible(tab, "delete confirmation")
    shoot(tab.page, "widget-delete-confirm")


def test_html_from_citizen_and_from_the_kb_is_shown_as_text(new_page: NewPage, services: Running) -> None:
    entry = services.kb / "test-html.md"
    entry.write_text(
        "---\nid: test-html-antwort\ntitle: Wo bekomme ich den Bastelbogen zum Stadtwappen?\n"
        "questions:\n  - Wo bekomme ich den Bastelbogen für das Stadtwappen?\n"
        "  - Gibt es den Stadtwappen-Bastelbogen?\nlang: de\ntags: [test]\n"
        "source: https://musterstadt.example/bastelbogen\nowner: Bürgeramt\nupdated: 2026-11-23\n"
        "review_by: 2027-05-31\n---\n"
        f"Den Bastelbogen gibt es im Rathaus. {XSS} <script>alert(2)</script>\n\n"
        "- **Rathaus**, Marktplatz 1\n- [Bastelbogen](javascript:alert(3))\n",
        encoding="utf-8")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the kb watcher publishes the new index within seconds
            reply = services.say("probe-html", "Wo bekomme ich den Bastelbogen für das Stadtwappen?")
            if any(m.get("custom", {}).get("faq_id") == "test-html-antwort" for m in reply):
                break
            time.sleep(1)
        tab, widget = open_site(new_page, services)
        widget.open()
        widget.ask(XSS)
        expect(widget.user_messages.first.locator(".ak-body")).to_have_text(XSS)
        answer = widget.ask("Wo bekomme ich den Bastelbogen für das Stadtwappen?")
        expect(answer).to_contain_text(XSS)
        expect(answer).to_contain_text("<script>alert(2)</script>")
        expect(answer.locator("ul li strong")).to_have_text("Rathaus")
        expect(answer.locator("ul li").nth(1)).to_have_text("Bastelbogen")  # javascript: is not made a link
        expect(answer.locator("ul li").nth(1).locator("a")).to_have_count(0)
        expect(answer.locator("a[href^='javascript']")).to_have_count(0)
        counts = tab.page.evaluate("""() => { const r = document.getElementById('auskunft-widget').shadowRoot;
            return [r.querySelectorAll('img').length, r.querySelectorAll('script').length]; }""")
        assert counts == [0, 0]
        tab.page.wait_for_timeout(500)
        assert tab.dialogs == [] and tab.console_errors == []
        shoot(tab.page, "widget-html-as-text")
    finally:
        entry.unlink()


def test_unreachable_bot_shows_a_clear_message_and_retry_keeps_the_text(new_page: NewPage, services: Running) -> None:
    tab, widget = open_site(new_page, services, bypass_csp=True)
    widget.open()
    question = "Wie melde ich meinen Hund an?"
    tab.page.route("**/api/chat", lambda route: route.abort("connectionrefused"))
    widget.input.fill(question)
    widget.input.press("Enter")
    expect(widget.alert).to_contain_text("nicht erreichbar")
    expect(widget.user_messages.last).to_contain_text(question)
    expect(widget.user_messages.last).to_contain_text("nicht gesendet")
    shoot(tab.page, "widget-error")
    assert_accessible(tab, "error")
    tab.page.reload()  # the unsent message survives a reload too
    expect(widget.alert).to_contain_text("nicht erreichbar")
    tab.page.unroute("**/api/chat")
    before = widget.bot_messages.count()
    widget.alert.locator("button", has_text="Erneut senden").click()
    widget.wait_for_bot(before)
    expect(widget.alert).to_be_empty()
    expect(widget.user_messages).to_have_count(1)
    expect(widget.user_messages.first).not_to_contain_text("nicht gesendet")


def test_a_busy_bot_503_is_sent_again_by_itself_and_kept_after_two_tries(new_page: NewPage,
                                                                         services: Running) -> None:
    tab, widget = open_site(new_page, services, bypass_csp=True)
    widget.open()
    refused: List[str] = []

    def busy_twice(route: Route) -> None:  # the web service's admission cap: 503 + Retry-After, nothing stored
        if len(refused) < 2:
            refused.append(route.request.post_data or "")
            route.fulfill(status=503, headers={"Retry-After": "1", "Content-Type": "application/json"},
                          body='{"detail": "the bot is busy right now"}')
        else:
            route.fallback()

    tab.page.route("**/api/chat", busy_twice)
    before = widget.bot_messages.count()
    widget.input.fill("Wie melde ich meinen Hund an?")
    widget.input.press("Enter")
    expect(widget.status).to_contain_text("automatisch gesendet")  # said in the status region, not an error
    widget.wait_for_bot(before)
    assert len(refused) == 2 and all("Hund" in body for body in refused)
    expect(widget.alert).to_be_empty()
    expect(widget.user_messages).to_have_count(1)
    expect(widget.user_messages.first).not_to_contain_text("nicht gesendet")

    tab.page.unroute("**/api/chat")
    tab.page.route("**/api/chat", lambda route: route.fulfill(status=503, headers={"Retry-After": "1"}, body="{}"))
    widget.input.fill("Und was kostet das?")
    widget.input.press("Enter")
    expect(widget.alert).to_contain_text("nicht erreichbar", timeout=15_000)  # after two more tries: kept here
    expect(widget.user_messages.last).to_contain_text("nicht gesendet")
    expect(widget.alert.locator("button", has_text="Erneut senden")).to_be_visible()
    assert_accessible(tab, "busy-kept")


@pytest.fixture
def web_without_bot(services: Running, tmp_path: Path) -> Iterator[str]:
    """A second real web service whose Rasa is not running (its port has no listener)."""
    port = free_port()
    env = {**os.environ, "AUSKUNFT_HOME": str(tmp_path), "AUSKUNFT_RASA_PORT": str(free_port()),
           "AUSKUNFT_RASA_WORKERS": "1", "AUSKUNFT_WEB_PORT": str(port), "AUSKUNFT_API_TOKEN": "other-token-0123456789-abcdefghijkl"}
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "bot.web.app:create_app",
                                "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_web_service_up_but_bot_down_gives_the_same_clear_message(new_page: NewPage, web_without_bot: str) -> None:
    tab = new_page()
    tab.page.goto(web_without_bot + "/")
    widget = Widget(tab.page)
    widget.open()
    widget.input.fill("Wo kann ich parken?")
    widget.input.press("Enter")
    expect(widget.alert).to_contain_text("nicht erreichbar")
    expect(widget.alert.locator("button")).to_have_text("Erneut senden")
    expect(widget.user_messages.last).to_contain_text("Wo kann ich parken?")


def test_delete_conversation_deletes_it_on_the_server(new_page: NewPage, services: Running) -> None:
    tab, widget = open_site(new_page, services)
    widget.open()
    widget.ask("Wie beantrage ich ein Führungszeugnis?")
    sender = widget.stored()["id"]  # type: ignore[index]
    trackers = services.home / "trackers.sqlite3"

    def stored_events() -> int:
        with sqlite3.connect(trackers) as db:
            return int(db.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0])

    assert stored_events() > 0
    tab.page.locator(".ak-text-button", has_text="Gespräch löschen").click()
    tab.page.locator(".ak-confirm button", has_text="Ja, löschen").click()
    expect(tab.page.locator(".ak-status")).to_have_text("Das Gespräch wurde gelöscht.")
    assert stored_events() == 0
    assert widget.stored() is None
    assert len(widget.user_messages.all()) == 0
    assert widget.focused() == "ak-input"


def test_small_screen_zoom_and_reduced_motion(new_page: NewPage, services: Running) -> None:
    for name, size in (("360px", (360, 740)), ("zoom-200", (640, 400))):  # 200 % zoom of 1280×800
        tab, widget = open_site(new_page, services, viewport=size, reduced_motion="reduce")
        widget.open()
        widget.ask("Was kostet ein Reisepass?")
        box = widget.panel.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size[0] + 0.5
        assert tab.page.evaluate("() => document.documentElement.scrollWidth") <= size[0]
        expect(widget.input).to_be_in_viewport()
        assert widget.panel.evaluate("p => getComputedStyle(p).animationName") == "none"
        if name == "360px":
            shoot(tab.page, "widget-mobile-360")
    tab, widget = open_site(new_page, services, reduced_motion="no-preference")
    widget.open()
    assert widget.panel.evaluate("p => getComputedStyle(p).animationName") == "ak-in"


LONG_QUESTION = "Nach wie vielen Jahren kann ich mich einbürgern lassen?"  # kb einbuergerung: the longest answer
# Where the newest bot message sits in the log: its top relative to the log's visible box, and whether the log is
# scrolled to its end.
_PLACE = """m => { const log = m.closest('.ak-log');
  return {top: m.getBoundingClientRect().top - log.getBoundingClientRect().top, height: m.offsetHeight,
          view: log.clientHeight, atEnd: log.scrollTop + log.clientHeight >= log.scrollHeight - 2}; }"""
# Records the log's scrollTop in the microtask right after each change to the list: what the widget set synchronously.
_RECORD_SCROLL = """() => { const root = document.getElementById('auskunft-widget').shadowRoot;
  const log = root.querySelector('.ak-log'); window.__scrolls = [];
  new MutationObserver(() => window.__scrolls.push(log.scrollTop)).observe(root.querySelector('.ak-list'),
                                                                          {childList: true}); }"""


@pytest.mark.parametrize("size", [(360, 740), (640, 400), (1280, 800)], ids=["360px", "zoom-200", "desktop"])
def test_a_long_answer_opens_at_its_first_line(new_page: NewPage, services: Running, size: tuple[int, int]) -> None:
    tab, widget = open_site(new_page, services, viewport=size, reduced_motion="reduce")
    widget.open()
    widget.ask("Wie melde ich Sperrmüll an?")  # something above it in the log
    tab.page.evaluate(_RECORD_SCROLL)
    answer = widget.ask(LONG_QUESTION)
    expect(answer).to_contain_text("fünf Jahren")
    place = answer.evaluate(_PLACE)
    assert place["height"] > place["view"], f"the answer must be taller than the log for this test: {place}"
    assert 0 <= place["top"] <= 16, f"the answer's first line is not at the top of the log: {place}"
    assert not place["atEnd"]
    scrolled = answer.evaluate("m => m.closest('.ak-log').scrollTop")
    assert tab.page.evaluate("() => window.__scrolls")[-1] == scrolled  # reduced motion: no smooth scrolling
    thanks = widget.choose("Ja")  # a short message keeps today's scroll to the end
    expect(thanks).to_contain_text("freut mich")
    assert thanks.evaluate(_PLACE)["atEnd"]


def test_a_long_answer_scrolls_smoothly_to_its_first_line(new_page: NewPage, services: Running) -> None:
    tab, widget = open_site(new_page, services, viewport=(360, 740), reduced_motion="no-preference")
    widget.open()
    widget.ask(LONG_QUESTION)
    tab.page.wait_for_function(  # after the smooth scroll has ended
        """() => { const root = document.getElementById('auskunft-widget').shadowRoot;
                   const log = root.querySelector('.ak-log'), bots = root.querySelectorAll('.ak-msg.ak-bot');
                   const top = bots[bots.length - 1].getBoundingClientRect().top - log.getBoundingClientRect().top;
                   return top >= 0 && top <= 16; }""", timeout=5_000)
    assert not widget.last_bot().evaluate(_PLACE)["atEnd"]
    assert tab.console_errors == []


def test_english_page_gets_english_strings_and_answers(new_page: NewPage, services: Running) -> None:
    tab, widget = open_site(new_page, services, "/en", lang="en-GB")
    expect(widget.launcher).to_have_text("Questions? Open chat")
    widget.open()
    answer = widget.ask("I just moved here. How do I register my new address?")
    expect(answer).to_contain_text("Source")
    expect(tab.page.get_by_label("Your question")).to_be_visible()


def test_the_reply_follows_the_citizens_language_and_says_so_for_screen_readers(new_page: NewPage,
                                                                                 services: Running) -> None:
    _, widget = open_site(new_page, services, "/")  # the German page
    widget.open()
    answer = widget.ask("I just moved here. How do I register my new address?")
    expect(answer).to_contain_text("Source")  # English answer and texts on the German page
    expect(answer.locator(".ak-body")).to_have_attribute("lang", "en")  # WCAG 3.1.2, language of parts
    german = widget.ask("Wie melde ich Sperrmüll an?")
    expect(german).to_contain_text("Quelle")
    expect(german.locator(".ak-body")).not_to_have_attribute("lang", "en")


def test_widget_is_small_and_served_compressed(services: Running) -> None:
    total = 0
    for asset in ("auskunft.js", "auskunft.css"):
        with httpx.stream("GET", f"{services.web}/widget/{asset}", headers={"Accept-Encoding": "gzip"}) as response:
            response.read()
            assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
            total += response.num_bytes_downloaded  # bytes on the wire (compressed)
    assert total <= 50 * 1024, f"widget is {total} bytes gzipped; the budget is 50 KB"


def test_data_attributes_title_position_language_and_a_too_light_colour(new_page: NewPage, services: Running) -> None:
    tab = new_page()
    host_page = ('<!doctype html><html lang="de"><head><title>Test</title></head><body><main><h1>Amt</h1></main>'
                 '<script src="/widget/auskunft.js" data-lang="en" data-title="Kreis-Chat" data-color="#ffcc00" '
                 'data-position="left" defer></script></body></html>')
    tab.page.route(services.web + "/attribute-test", lambda route: route.fulfill(body=host_page,
                                                                                 content_type="text/html"))
    tab.page.goto(services.web + "/attribute-test")
    widget = Widget(tab.page)
    expect(widget.launcher).to_have_text("Questions? Open chat")  # data-lang wins over the page language
    box = widget.launcher.bounding_box()
    assert box is not None and box["x"] < 100  # data-position="left"
    widget.open()
    expect(tab.page.locator("#ak-title")).to_have_text("Kreis-Chat")
    rgb = widget.launcher.evaluate("b => getComputedStyle(b).backgroundColor")
    channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    assert 1.05 / (luminance + 0.05) >= 4.5, f"white on {rgb} is below 4.5:1; the widget must darken #ffcc00"
