"""Live updates of the inbox: the state (ids and counters only), the event stream, polling and the transcript
fragment, with logins and departments enforced (TestClient on SQLite)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.config.settings import Settings
from bot.staff import passwords
from bot.tickets import service
from bot.tickets.live import live_state
from bot.web.app import create_app
from bot.web.deps import services_of
from bot.web.routers import inbox_live
from tests.helpers.inbox import add_ticket, staff
from tests.helpers.ticket_api import TOKEN

CASE = "AK-LLLL-0001"
SECRET = "Meine Steuer-ID ist geheim"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.setattr(passwords, "N", 2**10)  # cheaper scrypt for speed
    monkeypatch.setattr(inbox_live, "STREAM_SECONDS", 0.0)  # one round per stream in tests
    monkeypatch.setattr(inbox_live, "CHECK_SECONDS", 0.0)
    application = create_app(Settings(home=tmp_path / "home", api_token=TOKEN,
                                      database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}"))
    add_ticket(application, CASE)
    add_ticket(application, "AK-LLLL-0002", owner="Standesamt")
    return application


def citizen_writes(app: FastAPI, text: str = SECRET) -> None:
    with services_of(app).sessions() as session:
        ticket = service.get_ticket(session, CASE)
        assert ticket is not None
        service.add_citizen_message(session, ticket, text)


def test_a_citizen_message_raises_the_version_and_is_unread_until_the_agent_reads_it(app: FastAPI) -> None:
    with services_of(app).sessions() as session:
        before = live_state(session, ["buergerservice"], "weber")
        assert list(before["tickets"]) == [CASE] and before["waiting"] == 1 and not before["tickets"][CASE]["u"]
    citizen_writes(app)
    with services_of(app).sessions() as session:
        after = live_state(session, ["buergerservice"], "weber")["tickets"][CASE]
        assert after["v"] > before["tickets"][CASE]["v"] and after["u"]
        assert live_state(session, None, "weber")["tickets"].keys() == {CASE, "AK-LLLL-0002"}  # a manager
        ticket = service.get_ticket(session, CASE)
        assert ticket is not None
        service.record_read(session, ticket, "weber")
        read = live_state(session, ["buergerservice"], "weber")["tickets"][CASE]
        assert read == {"v": after["v"], "u": False}  # reading changes nothing else
        assert live_state(session, ["buergerservice"], "roth")["tickets"][CASE]["u"]  # another agent's read


def test_polling_state_shows_ids_and_counters_of_my_departments_only(app: FastAPI) -> None:
    client = staff(app, "weber", "buergerservice")
    citizen_writes(app)
    response = client.get("/inbox/events/state")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert list(response.json()["tickets"]) == [CASE] and response.json()["tickets"][CASE]["u"] is True
    assert SECRET not in response.text and "Steuer" not in response.text
    assert client.get("/inbox/events/state", params={"fall": "x<script>"}).status_code == 400


def test_the_queue_marks_tickets_with_a_new_citizen_message(app: FastAPI) -> None:
    client = staff(app, "weber", "buergerservice")
    assert '<span class="unread" hidden>Neue Nachricht</span>' in client.get("/inbox").text
    citizen_writes(app)
    page = client.get("/inbox").text
    assert '<span class="unread">Neue Nachricht</span>' in page and '<script src="/inbox-static/live.js"' in page
    client.get(f"/inbox/tickets/{CASE}")
    assert '<span class="unread" hidden>Neue Nachricht</span>' in client.get("/inbox").text


def events(client: TestClient, url: str) -> List[str]:
    with client.stream("GET", url) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        return list(response.iter_lines())


def test_the_event_stream_sends_the_state(app: FastAPI) -> None:
    client = staff(app, "weber", "buergerservice")
    citizen_writes(app)
    lines = events(client, f"/inbox/events?fall={CASE}")
    assert lines[0] == "retry: 3000" and "event: state" in lines
    state = json.loads(lines[lines.index("event: state") + 1][len("data: "):])
    assert state["tickets"][CASE]["u"] is True and SECRET not in "\n".join(lines)


def test_without_login_the_live_endpoints_answer_401_and_do_not_redirect(app: FastAPI) -> None:
    client = TestClient(app)
    for url in ("/inbox/events", "/inbox/events/state", f"/inbox/tickets/{CASE}/verlauf"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 401 and "melden Sie sich an" in response.json()["detail"]


def test_the_transcript_fragment_is_escaped_audit_logged_and_limited_to_my_departments(app: FastAPI) -> None:
    client = staff(app, "weber", "buergerservice")
    citizen_writes(app, "<img src=x onerror=alert(1)> Hallo?")
    response = client.get(f"/inbox/tickets/{CASE}/verlauf")
    assert response.status_code == 200 and 'id="transcript" data-lines="3"' in response.text
    assert "&lt;img src=x onerror=alert(1)&gt; Hallo?" in response.text and "<img" not in response.text
    with services_of(app).sessions() as session:
        ticket = service.get_ticket(session, CASE)
        assert ticket is not None and [e.actor for e in ticket.events if e.kind == "read"] == ["weber"]
    assert client.get("/inbox/tickets/AK-LLLL-0002/verlauf").status_code == 404


def test_live_requests_do_not_keep_an_idle_login_alive(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    real = inbox_live.auth.agent_for_token

    def spy(session, token, idle_minutes=None, lifetime_minutes=None):  # type: ignore[no-untyped-def]
        seen.append(idle_minutes)
        return real(session, token, idle_minutes, lifetime_minutes)

    client = staff(app, "weber", "buergerservice")
    monkeypatch.setattr(inbox_live.auth, "agent_for_token", spy)
    client.get("/inbox/events/state")
    assert seen and all(minutes is None for minutes in seen)
