"""Agencies are isolated (issue 16): staff of the town Adorf reach nothing of the town Bdorf in the real services.

The end-to-end deployment serves three agencies (``musterstadt``, the default, ``adorf`` and ``bdorf``). Each
test makes its own tickets through the ticket API and its own accounts with the real CLI (``--agency``).
"""

from __future__ import annotations

import json
import random
import string
import uuid
from typing import Dict, Iterator

import httpx
import pytest

from tests.e2e.conftest import Running
from tests.e2e.inbox_agent import create_account
from tests.security.helpers import PASSWORD, csrf_of, signed_in

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _suffix() -> str:
    return "".join(random.choices(string.ascii_lowercase, k=6))


def _ticket(services: Running, agency: str) -> Dict[str, str]:
    """A new ticket of ``agency`` through the ticket API; its case number and department."""
    letters = string.ascii_uppercase + string.digits
    case = "AK-" + "".join(random.choices(letters, k=4)) + "-" + "".join(random.choices(letters, k=4))
    body = {"case_number": case, "conversation_id": uuid.uuid4().hex, "language": "de", "reason": "low_confidence",
            "question": f"Frage an {agency}", "consent": True, "candidates": [], "transcript": [], "agency": agency}
    auth = {"Authorization": f"Bearer {services.token}"}
    created = httpx.post(f"{services.web}/api/tickets", json=body, timeout=30, headers=auth)
    assert created.status_code == 201, created.text
    stored = httpx.get(f"{services.web}/api/tickets/{case}", timeout=30, headers=auth).json()
    return {"case": case, "department": stored["department"], "status": stored["status"]}


def _api_ticket(services: Running, case: str) -> Dict[str, object]:
    auth = {"Authorization": f"Bearer {services.token}"}
    return dict(httpx.get(f"{services.web}/api/tickets/{case}", timeout=30, headers=auth).json())


@pytest.fixture(scope="module")
def towns(services: Running) -> Dict[str, Dict[str, str]]:
    """One ticket in Adorf and one in Bdorf, in the same department."""
    return {"adorf": _ticket(services, "adorf"), "bdorf": _ticket(services, "bdorf")}


@pytest.fixture(scope="module")
def adorf_agent(services: Running, towns: Dict[str, Dict[str, str]]) -> Iterator[httpx.Client]:
    name = "adorf-" + _suffix()
    create_account(services, name, PASSWORD, "Frau Adorf", "--department", towns["adorf"]["department"],
                   "--agency", "adorf")
    with signed_in(services, name) as client:
        yield client


def test_an_agent_of_adorf_cannot_list_open_reply_to_or_take_bdorfs_ticket(
        services: Running, towns: Dict[str, Dict[str, str]], adorf_agent: httpx.Client) -> None:
    own, other = towns["adorf"]["case"], towns["bdorf"]["case"]
    queue = adorf_agent.get("/inbox", params={"status": "all"}).text
    assert own in queue and other not in queue
    assert adorf_agent.get(f"/inbox/tickets/{own}").status_code == 200
    unknown = adorf_agent.get("/inbox/tickets/AK-ZZZZ-ZZZ9")
    refused = adorf_agent.get(f"/inbox/tickets/{other}")
    assert refused.status_code == unknown.status_code == 404  # the case number is not confirmed
    assert adorf_agent.get(f"/inbox/tickets/{other}/verlauf").status_code == 404
    token = csrf_of(adorf_agent.get("/inbox").text)
    for action, form in (("assign", {}), ("reply", {"text": "Antwort aus Adorf"}), ("note", {"text": "x"}),
                         ("status", {"status": "resolved"}), ("hand-back", {})):
        answer = adorf_agent.post(f"/inbox/tickets/{other}/{action}", data={"csrf_token": token, **form})
        assert answer.status_code == 404, action
    ticket = _api_ticket(services, other)
    assert ticket["status"] == "new" and ticket["assignee"] is None and not ticket.get("replies")


def test_an_agent_of_adorf_gets_no_live_events_or_export_of_bdorf(
        services: Running, towns: Dict[str, Dict[str, str]], adorf_agent: httpx.Client) -> None:
    own, other = towns["adorf"]["case"], towns["bdorf"]["case"]
    state = adorf_agent.get("/inbox/events/state", params={"fall": other}).json()
    assert own in state["tickets"] and other not in state["tickets"]
    with adorf_agent.stream("GET", "/inbox/events", params={"fall": other}) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                sent = json.loads(line[6:])
                assert own in sent["tickets"] and other not in sent["tickets"]
                break
    name = "bdorf-" + _suffix()
    create_account(services, name, PASSWORD, f"Herr Bdorf {name}", "--department", towns["bdorf"]["department"],
                   "--agency", "bdorf")
    with signed_in(services, name) as bdorf:
        page = bdorf.get(f"/inbox/tickets/{other}")
        assert bdorf.post(f"/inbox/tickets/{other}/assign",
                          data={"csrf_token": csrf_of(page.text)}).status_code == 303
    chief = "adorf-chefin-" + _suffix()
    create_account(services, chief, PASSWORD, "Frau Chefin", "--manager", "--agency", "adorf")
    with signed_in(services, chief) as manager:
        for table in ("agents", "departments", "reasons"):
            csv = manager.get("/inbox/analytics.csv", params={"table": table, "days": 14})
            assert csv.status_code == 200 and f"Herr Bdorf {name}" not in csv.text
        assert other not in manager.get("/inbox", params={"status": "all"}).text


def test_an_editor_of_adorf_cannot_preview_check_or_edit_bdorfs_kb(services: Running) -> None:
    name = "adorf-red-" + _suffix()
    create_account(services, name, PASSWORD, "Frau Redaktion", "--editor", "--agency", "adorf")
    with signed_in(services, name) as editor:
        assert editor.get("/inbox/editor/check", params={"agency": "adorf"}).status_code == 200
        for path in ("/inbox/editor", "/inbox/editor/check", "/inbox/editor/entries", "/inbox/editor/entries/new",
                     "/inbox/editor/analytics", "/inbox/editor/suggestions"):
            assert editor.get(path, params={"agency": "bdorf", "q": "Sperrmüll"}).status_code == 404, path
        page = editor.get("/inbox/editor/entries", params={"agency": "adorf"}).text
        assert 'value="bdorf"' not in page
        token = csrf_of(page)
        for target in ("/inbox/editor/entries/new", "/inbox/editor/entries/new?agency=bdorf"):
            sent = editor.post(target, data={"csrf_token": token, "agency": "bdorf", "id": "angriff",
                                             "title": "Angriff", "action": "save"})
            assert sent.status_code == 404, target


def test_a_manager_of_adorf_cannot_see_or_change_bdorfs_accounts(services: Running) -> None:
    suffix = _suffix()
    chief, own, other = f"adorf-leitung-{suffix}", f"adorf-konto-{suffix}", f"bdorf-konto-{suffix}"
    create_account(services, chief, PASSWORD, "Frau Leitung", "--manager", "--agency", "adorf")
    create_account(services, own, PASSWORD, "Frau Adorf", "--department", "buergerservice", "--agency", "adorf")
    create_account(services, other, PASSWORD, "Herr Bdorf", "--department", "buergerservice", "--agency", "bdorf")
    with signed_in(services, chief) as manager:
        overview = manager.get("/inbox/accounts").text
        assert own in overview and other not in overview and "angriff-chefin" not in overview
        assert manager.get(f"/inbox/accounts/{own}").status_code == 200
        assert manager.get(f"/inbox/accounts/{other}").status_code == 404
        token = csrf_of(overview)
        for path, form in (("disable", {}), ("revoke-sessions", {}), ("remove", {"confirm": "ja"}),
                           ("password", {"password": "x" * 20, "password_repeat": "x" * 20}),
                           ("", {"display_name": "Übernommen", "departments": "buergerservice", "agencies": "adorf"})):
            answer = manager.post(f"/inbox/accounts/{other}/{path}".rstrip("/"), data={"csrf_token": token, **form})
            assert answer.status_code == 404, path
        grab = manager.post("/inbox/accounts", data={
            "csrf_token": token, "username": f"neu-{suffix}", "display_name": "Frau Neu", "password": PASSWORD,
            "password_repeat": PASSWORD, "departments": "buergerservice", "agencies": "bdorf"})
        assert grab.status_code == 400 and f"neu-{suffix}" not in manager.get("/inbox/accounts").text
    with signed_in(services, other) as untouched:  # still active, same password, same name
        assert "Herr Bdorf" in untouched.get("/inbox").text
