"""Real-browser test tools: Playwright (sync API) on the system Chromium, axe-core checks, screenshots.

Register the fixtures in a conftest with ``from tests.e2e.browser import browser, new_page  # noqa: F401``.

Content-Security-Policy: browser contexts enforce the page's CSP by default, so a CSP that breaks the
page (or a page that breaks its CSP) shows up in ``BrowserTab.console_errors`` as it would for users.
``axe_violations`` injects axe-core as an inline ``<script>`` (``page.add_script_tag(content=...)``,
never a URL), which a strict CSP (no ``'unsafe-inline'`` in ``script-src``) blocks; it then fails
with a message saying so. Open such pages with ``new_page(bypass_csp=True)`` for accessibility checks
(Playwright's ``bypass_csp`` context option) and keep the CSP-enforcing tabs for everything else.

Browsers and axe-core come from ``make browser-deps`` (Debian ``chromium``, npm ``axe-core``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterator, List, Literal, NamedTuple, Optional, Protocol, Tuple, Union
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.conftest import ROOT

CHROMIUM = Path(os.environ.get("AUSKUNFT_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = ROOT / "tests" / "e2e" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SCREENSHOT_DIR = ROOT / "docs" / "screenshots"
TIMEZONE = "Europe/Berlin"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_OPAQUE_SCHEMES = ("data", "blob")  # no network origin of their own: count as same-origin

ReducedMotion = Optional[Literal["reduce", "no-preference"]]
AxeContext = Union[str, Dict[str, Any], None]


class SeenDialog(NamedTuple):
    """A JavaScript dialog the page opened (and that was dismissed)."""

    type: str  # "alert", "confirm", "prompt" or "beforeunload"
    message: str


@dataclass
class BrowserTab:
    """One page in its own browser context, with what it did recorded.

    Attributes:
        page: The Playwright page.
        context: Its browser context (cookies, storage, permissions); closed at fixture teardown.
        requests: Every request URL the context issued, in order (documents, scripts, images, XHR, ...).
        console_errors: Console messages of type ``error`` and uncaught page exceptions.
        dialogs: alert/confirm/prompt dialogs, each dismissed as it appeared.
    """

    page: Page
    context: BrowserContext
    requests: List[str] = field(default_factory=list)
    console_errors: List[str] = field(default_factory=list)
    dialogs: List[SeenDialog] = field(default_factory=list)

    @classmethod
    def open(cls, context: BrowserContext) -> "BrowserTab":
        """Open a page in ``context``, recording from before its first request."""
        tab = cls(page=context.new_page(), context=context)
        context.on("request", lambda request: tab.requests.append(request.url))
        context.on("console", tab._on_console)
        context.on("weberror", lambda error: tab.console_errors.append(f"uncaught: {error.error}"))
        context.on("dialog", tab._on_dialog)
        return tab

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(SeenDialog(dialog.type, dialog.message))
        dialog.dismiss()


class NewPage(Protocol):
    """The ``new_page`` fixture's factory."""

    def __call__(self, lang: str = "de-DE", viewport: Tuple[int, int] = (1280, 800),
                 reduced_motion: ReducedMotion = None, bypass_csp: bool = False) -> BrowserTab:
        """Open a page in a fresh browser context.

        Args:
            lang: Browser locale (``navigator.language``, ``Accept-Language``).
            viewport: Width and height in CSS pixels.
            reduced_motion: Emulated ``prefers-reduced-motion``; None keeps the browser default.
            bypass_csp: Ignore the pages' Content-Security-Policy (needed for ``axe_violations`` on strict-CSP pages).

        Returns:
            The tab, recording requests, console errors and dialogs from the start.
        """
        ...


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless system Chromium for one test module; fails (not skips) when it is not installed.

    Module scope, not session: Playwright's sync API keeps an event loop running in this thread
    while it is open, which would break ``asyncio.run`` in the tests that come after.
    """
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run 'make browser-deps' (or set AUSKUNFT_CHROMIUM)",
                    pytrace=False)
    with sync_playwright() as playwright:
        # --no-sandbox: the tests may run as root, where Chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[NewPage]:
    """Factory for pages, each in a fresh browser context; all contexts are closed at teardown."""
    contexts: List[BrowserContext] = []

    def factory(lang: str = "de-DE", viewport: Tuple[int, int] = (1280, 800),
                reduced_motion: ReducedMotion = None, bypass_csp: bool = False) -> BrowserTab:
        context = browser.new_context(locale=lang, timezone_id=TIMEZONE, reduced_motion=reduced_motion,
                                      viewport={"width": viewport[0], "height": viewport[1]}, bypass_csp=bypass_csp)
        contexts.append(context)
        return BrowserTab.open(context)

    yield factory
    for context in contexts:
        context.close()


@lru_cache(maxsize=1)
def _axe_source() -> str:
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core not found at {AXE_JS}: run 'make browser-deps'", pytrace=False)
    return AXE_JS.read_text(encoding="utf-8")


_AXE_LOADED = "() => typeof window.axe?.run === 'function'"
_AXE_RUN = """async ([context, options]) => {
  const results = await axe.run(context ?? document, options);
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target, html: n.html, failureSummary: n.failureSummary})),
  }));
}"""


# Wait (at most 2 s) until finite CSS animations and transitions have finished, in open shadow trees too. Two
# animation frames first: an animation that a click has just started exists only once styles are computed.
_ANIMATIONS_SETTLED = """async () => {
  await new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const roots = [document, ...[...document.querySelectorAll("*")].map(e => e.shadowRoot).filter(Boolean)];
  const running = [...new Set(roots.flatMap(root => root.getAnimations()))]
    .filter(a => !a.effect || a.effect.getComputedTiming().iterations !== Infinity);
  await Promise.race([Promise.all(running.map(a => a.finished.catch(() => null))),
                      new Promise(resolve => setTimeout(resolve, 2000))]);
}"""


def axe_violations(page: Page, context: AxeContext = None) -> List[Dict[str, Any]]:
    """Run axe-core (WCAG 2.0/2.1 A and AA, best practices) on the page as it is now.

    Args:
        page: A loaded page. Strict-CSP pages need a tab from ``new_page(bypass_csp=True)``.
        context: What to check: a CSS selector or an axe context object; None checks the whole document.

    Returns:
        The violations, each ``{"id", "impact", "help", "helpUrl", "nodes": [{"target", "html",
        "failureSummary"}]}``; empty when axe finds none.
    """
    if not page.evaluate(_AXE_LOADED):
        try:
            page.add_script_tag(content=_axe_source())
        except PlaywrightError as error:  # Playwright reports the CSP violation of the inline script
            raise AssertionError(f"axe-core could not be injected ({error.message.splitlines()[0]}); for a page "
                                 "with a strict Content-Security-Policy use new_page(bypass_csp=True)") from error
        assert page.evaluate(_AXE_LOADED), "axe-core was injected but window.axe is missing"
    page.evaluate(_ANIMATIONS_SETTLED)  # colours measured mid fade-in are blends, not what people read
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    return list(page.evaluate(_AXE_RUN, [context, options]))


def format_violations(violations: List[Dict[str, Any]]) -> str:
    """Readable summary of ``axe_violations`` results, for assertion messages.

    Args:
        violations: As returned by ``axe_violations``.

    Returns:
        One block per violation (rule, impact, help, link) listing each failing node.
    """
    lines = [f"{len(violations)} accessibility violation(s):"]
    for violation in violations:
        lines.append(f"- {violation['id']} [{violation['impact']}] {violation['help']} ({violation.get('helpUrl', '')})")
        for node in violation["nodes"]:
            html = " ".join(node["html"].split())
            lines.append(f"    at {' '.join(map(str, node['target']))}: {html[:200]}")
            lines.extend(f"      {line}" for line in (node.get("failureSummary") or "").splitlines())
    return "\n".join(lines)


def shoot(page: Page, name: str) -> Path:
    """Save a screenshot of the viewport as ``<name>.png``.

    Args:
        page: The page to capture.
        name: File name without ``.png``.

    Returns:
        The written file, in ``docs/screenshots`` or ``$AUSKUNFT_SCREENSHOT_DIR`` (created if missing).
    """
    folder = Path(os.environ.get("AUSKUNFT_SCREENSHOT_DIR") or SCREENSHOT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def _origin(url: str) -> Tuple[str, str, Optional[int]]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


def same_origin_only(requests: List[str], origin: str) -> List[str]:
    """The requests that leave ``origin`` (the offenders; empty when the page stayed same-origin).

    Args:
        requests: Request URLs, e.g. ``BrowserTab.requests``.
        origin: The expected origin, e.g. ``"http://127.0.0.1:8000"`` (a path is ignored).

    Returns:
        The URLs whose scheme, host or port differ; ``data:`` and ``blob:`` URLs count as same-origin.
    """
    expected = _origin(origin)
    return [url for url in requests
            if urlsplit(url).scheme.lower() not in _OPAQUE_SCHEMES and _origin(url) != expected]
