"""Script payloads through every page that shows citizen or staff text: always shown as text, never as markup.

Paths: the widget's reply JSON, the inbox queue and ticket page (question, transcript, candidates, staff reply),
the case page ``/fall`` (staff reply, the typed number), the editor's preview, and the notification e-mail.
"""

from __future__ import annotations

import email
import random
import re
import string
import time
import uuid
from email.message import Message
from pathlib import Path
from typing import List

import httpx
import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import Running
from tests.security.helpers import XSS, assert_inert, chat, csrf_of

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def case_number() -> str:
    """A fresh case number (AK-XXXX-XXXX)."""
    letters = string.ascii_uppercase + string.digits
    return "AK-" + "".join(random.choices(letters, k=4)) + "-" + "".join(random.choices(letters, k=4))


def ticket_with_payloads(services: Running) -> str:
    """A ticket whose question, transcript and candidates carry the payloads (as the action server sends it)."""
    case = case_number()
    body = {"case_number": case, "conversation_id": uuid.uuid4().hex, "language": "de", "reason": "low_confidence",
            "question": " ".join(XSS), "consent": True, "email": "max@example.org",
            "candidates": [{"faq_id": "hundesteuer-anmelden", "title": XSS[1], "score": 0.5}],
            "transcript": [{"role": "citizen", "text": text} for text in XSS]
            + [{"role": "bot", "text": "Quelle: [Seite](javascript:alert(1)) und [hier](https://example.org)"}]}
    created = httpx.post(f"{services.web}/api/tickets", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {services.token}"})
    assert created.status_code == 201, created.text
    return case


def test_the_widget_gets_text_only(services: Running) -> None:
    for payload in XSS:
        reply = chat(services, payload)
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/json")
        assert all(isinstance(m, dict) for m in reply.json())
    widget = (ROOT / "bot" / "web" / "static" / "widget" / "auskunft.js").read_text(encoding="utf-8")
    sinks = re.compile(r"\.(inner|outer)HTML\s*[+]?=|insertAdjacentHTML\s*\(|document\.write|\beval\s*\(|"
                       r"new\s+Function\s*\(|createContextualFragment|DOMParser")
    assert sinks.findall(widget) == [], "the widget builds markup from strings"


def test_the_inbox_shows_the_payloads_as_text(services: Running, manager: httpx.Client) -> None:
    case = ticket_with_payloads(services)
    page = manager.get(f"/inbox/tickets/{case}")
    assert page.status_code == 200
    assert_inert(page.text, XSS)
    assert "&lt;script&gt;alert(" in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text  # shown, as text
    queue = manager.get("/inbox", params={"status": "all"})
    assert queue.status_code == 200 and case in queue.text
    assert_inert(queue.text, XSS)


def test_a_staff_reply_is_text_on_the_case_page_and_not_in_the_mail(services: Running,
                                                                     manager: httpx.Client) -> None:
    case = ticket_with_payloads(services)
    mails_before = len(services.mails)
    for what, form in (("assign", {}), ("reply", {"text": "\n".join(XSS)})):
        page = manager.get(f"/inbox/tickets/{case}")
        done = manager.post(f"/inbox/tickets/{case}/{what}", data={"csrf_token": csrf_of(page.text), **form})
        assert done.status_code == 303, done.text[:300]
    assert_inert(manager.get(f"/inbox/tickets/{case}").text, XSS)
    lookup = httpx.post(f"{services.web}/fall", data={"number": case}, timeout=30)
    assert lookup.status_code == 200 and "onerror" in lookup.text  # the reply is there, as text
    assert_inert(lookup.text, XSS)
    deadline = time.monotonic() + 30
    while len(services.mails) == mails_before and time.monotonic() < deadline:
        time.sleep(0.5)
    mails = [email.message_from_bytes(raw) for raw in services.mails[mails_before:]]
    mine = [m for m in mails if case in str(m.get("Subject", ""))]
    assert mine, "no notification e-mail"
    for mail in mine:
        parts: List[Message] = list(mail.walk())
        assert {p.get_content_type() for p in parts if not p.is_multipart()} == {"text/plain"}
        text = "".join(str(p.get_payload(decode=True), "utf-8") for p in parts if not p.is_multipart())
        assert "onerror" not in text and "<script" not in text  # the reply is never sent by e-mail


def test_the_case_page_escapes_the_typed_number(services: Running) -> None:
    for payload in XSS:
        page = httpx.post(f"{services.web}/fall", data={"number": payload[:40]}, timeout=30)
        assert page.status_code == 400
        assert_inert(page.text, [payload[:40].upper()])


def test_the_editor_preview_escapes_the_question(services: Running, manager: httpx.Client) -> None:
    for payload in XSS:
        page = manager.get("/inbox/editor", params={"q": payload})
        assert page.status_code == 200, page.text[:300]
        assert_inert(page.text, [payload])


def test_no_page_template_turns_off_escaping() -> None:
    templates = ROOT / "bot" / "web" / "templates"
    found = [f"{path.relative_to(templates)}: {line.strip()}" for path in sorted(Path(templates).rglob("*.html"))
             for line in path.read_text(encoding="utf-8").splitlines()
             if re.search(r"\|\s*safe\b|autoescape\s+false", line)]
    assert found == [], found
