"""Helpers of the attack suite: accounts through the real CLI, logins through the real form, chat messages."""

from __future__ import annotations

import html
import re
import uuid
from contextlib import contextmanager
from html.parser import HTMLParser
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx

from tests.e2e.conftest import Running
from tests.e2e.inbox_agent import create_account
from tests.helpers.replies import decisions, offered  # noqa: F401  (re-exported)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "ein-langes-angriffs-passwort-42"
XSS = ['<script>alert("xss")</script>', '<img src=x onerror=alert(1)>', '<a href="javascript:alert(1)">klick</a>',
       "[klick](javascript:alert(1))", '"><svg onload=alert(1)>']
"""What an attacker types; each must come back as text (escaped), never as markup or a javascript: link."""


def add_account(services: Running, username: str, *flags: str) -> None:
    """Create an inbox account with the real CLI (``--manager``, ``--editor``, ``--department KEY``)."""
    create_account(services, username, PASSWORD, "Frau Test", *flags)


def csrf_of(html: str) -> str:
    """The form token in an inbox page."""
    match = CSRF.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


def log_in(services: Running, username: str, client: Optional[httpx.Client] = None,
           next_url: str = "/inbox") -> httpx.Response:
    """Post the login form as a browser does (its double-submit token first); returns the answer (303 if done)."""
    client = client or httpx.Client(base_url=services.web, follow_redirects=False, timeout=30)
    form = client.get("/inbox/login")
    assert form.status_code == 200, form.status_code
    return client.post("/inbox/login", data={"username": username, "password": PASSWORD,
                                             "csrf_token": csrf_of(form.text), "next": next_url})


@contextmanager
def signed_in(services: Running, username: str) -> Iterator[httpx.Client]:
    """A client logged in as ``username`` (closed afterwards)."""
    with httpx.Client(base_url=services.web, follow_redirects=False, timeout=30) as client:
        assert log_in(services, username, client).status_code == 303
        yield client


def chat(services: Running, message: Any, sender: Optional[str] = None, **extra: Any) -> httpx.Response:
    """One message through the web service's ``/api/chat``, as the widget sends it."""
    return httpx.post(f"{services.web}/api/chat", json={"sender": sender or uuid.uuid4().hex, "message": message,
                                                        **extra}, timeout=60)


def tickets_of(services: Running, conversation: str) -> List[Dict[str, Any]]:
    """The tickets of one conversation, from the ticket API."""
    auth = {"Authorization": f"Bearer {services.token}"}
    found = httpx.get(f"{services.web}/api/tickets", params={"limit": 1000}, timeout=30, headers=auth)
    found.raise_for_status()
    full = [httpx.get(f"{services.web}/api/tickets/{t['case_number']}", headers=auth, timeout=30).json()
            for t in found.json()]
    return [t for t in full if t.get("conversation_id") == conversation]


class _ActiveMarkup(HTMLParser):
    """Collects what would run in a page: inline scripts, event-handler attributes, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: List[str] = []

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "formaction", "xlink:href") and value and \
                    re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(("javascript:", "data:text/html")):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag in ("iframe", "object", "embed", "base"):
            self.found.append(f"<{tag}>")


def active_markup(page: str) -> List[str]:
    """Inline scripts, event handlers and javascript: links in ``page`` (none in a safe page)."""
    parser = _ActiveMarkup()
    parser.feed(page)
    return parser.found


def assert_inert(page: str, payloads: List[str]) -> None:
    """No payload appears as markup (raw), and nothing in the page would run."""
    for payload in payloads:
        assert payload not in page or payload == html.escape(payload, quote=False), f"raw payload: {payload}"
    assert active_markup(page) == []
