"""Driving the chat widget in a real browser: locators into its shadow root and small waits."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from playwright.sync_api import Locator, Page, expect  # noqa: F401

STORE_KEY = "auskunft:v1"
ANSWER_TIMEOUT_MS = 30_000


class Widget:
    """The widget on one page (Playwright's CSS locators pierce its open shadow root)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.launcher = page.locator(".ak-launcher")
        self.panel = page.locator(".ak-panel")
        self.input = page.locator("#ak-input")
        self.messages = page.locator(".ak-msg")
        self.bot_messages = page.locator(".ak-msg.ak-bot")
        self.user_messages = page.locator(".ak-msg.ak-user")
        self.alert = page.locator(".ak-alert")
        self.status = page.locator(".ak-status")
        self.case = page.locator(".ak-case")

    def open(self) -> None:
        """Click the launcher and wait for the panel."""
        self.launcher.click()
        expect(self.panel).to_be_visible()

    def ask(self, text: str) -> Locator:
        """Type a question, send it with Enter, and return the first new bot message."""
        before = self.bot_messages.count()
        self.input.fill(text)
        self.input.press("Enter")
        return self.wait_for_bot(before)

    def wait_for_bot(self, before: int) -> Locator:
        """The first bot message after the ``before`` ones, once it is there."""
        self.page.wait_for_function(
            "n => document.getElementById('auskunft-widget').shadowRoot.querySelectorAll('.ak-msg.ak-bot').length > n",
            arg=before, timeout=ANSWER_TIMEOUT_MS)
        self.page.wait_for_function(
            "() => !document.getElementById('auskunft-widget').shadowRoot.querySelector('.ak-status').textContent",
            timeout=ANSWER_TIMEOUT_MS)
        return self.bot_messages.nth(before)

    def last_bot(self) -> Locator:
        """The latest bot message."""
        return self.bot_messages.last

    def choose(self, title: str) -> Locator:
        """Click a button in the conversation by its exact text; returns the first new bot message."""
        before = self.bot_messages.count()
        self.page.locator(".ak-log button", has_text=title).last.click()
        return self.wait_for_bot(before)

    def stored(self) -> Optional[Dict[str, Any]]:
        """What the widget keeps in sessionStorage (None if nothing)."""
        raw = self.page.evaluate(f"() => sessionStorage.getItem('{STORE_KEY}')")
        return json.loads(raw) if raw else None

    def focused(self) -> str:
        """A short description of the focused element inside the widget ('' if focus is elsewhere)."""
        return str(self.page.evaluate(
            """() => { const a = document.getElementById('auskunft-widget').shadowRoot.activeElement;
                       return a ? (a.id || a.textContent.trim() || a.className) : ''; }"""))

    def focus_ring(self) -> str:
        """The computed box-shadow of the focused element (the visible focus indicator)."""
        return str(self.page.evaluate(
            """() => { const a = document.getElementById('auskunft-widget').shadowRoot.activeElement;
                       return a ? getComputedStyle(a).boxShadow : 'none'; }"""))

    def texts(self) -> List[str]:
        """The visible text of every message."""
        return [t.strip() for t in self.messages.all_inner_texts()]
