"""Agencies are isolated in the inbox (issue 16): agents, editors and managers see only their agencies.

A deployment with two towns (``musterstadt``, the default, and ``adorf``); a ticket without an agency belongs to
the default town. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Iterator, List, Optional

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.config.settings import Settings
from bot.staff import passwords
from bot.staff.agency_scope import AgencyScopeError, check_agencies, manages
from bot.staff.auth import create_agent
from bot.staff.models import Agent, StaffAudit
from bot.tickets import analytics, breakdown, service
from bot.tickets.live import live_state
from bot.tickets.models import Ticket
from bot.tickets.scope import TicketScope
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.helpers.inbox import CSRF, PASSWORD, add_ticket, login
from tests.helpers.postgres import DATABASES, drop_postgres, postgres_url
from tests.helpers.ticket_api import TOKEN

ROOT = Path(__file__).resolve().parents[2]
MINI_KB = ROOT / "tests" / "fixtures" / "mini_kb"
TOWN_A, TOWN_B = "AK-AAAA-0001", "AK-BBBB-0002"  # adorf's ticket, musterstadt's (no agency: the default one)


@pytest.fixture(params=DATABASES)
def app(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    """Two towns in one deployment, each with a ticket in the same department (Bürgerservice)."""
    monkeypatch.setattr(passwords, "N", 2**10)
    for town in ("musterstadt", "adorf"):
        shutil.copytree(MINI_KB, tmp_path / town)
    config = tmp_path / "agencies.yml"
    config.write_text("default: musterstadt\nagencies:\n  musterstadt: {name: Stadt Musterstadt, kb: [musterstadt]}\n"
                      "  adorf: {name: Gemeinde Adorf, kb: [musterstadt, adorf]}\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'tickets.sqlite3'}" if request.param == "sqlite" else postgres_url()
    app = create_app(Settings(home=tmp_path / "home", api_token=TOKEN, agencies_file=config, database_url=url,
                              kb_dir=tmp_path / "musterstadt"))
    add_ticket(app, TOWN_A, agency="adorf", question="Frage aus Adorf")
    add_ticket(app, TOWN_B, question="Frage aus Musterstadt")
    yield app
    services_of(app).close()
    if url.startswith("postgresql"):
        drop_postgres(url)


def account(app: FastAPI, username: str, agencies: Optional[List[str]], *departments: str, manager: bool = False,
            editor: bool = False) -> TestClient:
    """A logged-in client of a new account working for ``agencies`` (None: every agency)."""
    with services_of(app).sessions() as session:
        create_agent(session, username, f"Frau {username.title()}", PASSWORD, list(departments), manager,
                     known=services_of(app).departments, is_editor=editor, agencies=agencies)
    client = TestClient(app)
    assert login(client, username).status_code == 303
    return client


def token_of(client: TestClient, path: str = "/inbox") -> str:
    found = CSRF.search(client.get(path).text)
    assert found is not None
    return found.group(1)


def stored(app: FastAPI, case: str) -> Ticket:
    with services_of(app).sessions() as session:
        ticket = service.get_ticket(session, case)
        assert ticket is not None
        session.expunge_all()
        return ticket


def events_of(app: FastAPI, case: str) -> List[str]:
    with services_of(app).sessions() as session:
        ticket = service.get_ticket(session, case)
        assert ticket is not None
        return [e.kind for e in ticket.events]


# --- the query filter -------------------------------------------------------------------------------------------


def test_the_scope_narrows_every_query_and_counts_tickets_without_agency_as_the_default_agency(app: FastAPI) -> None:
    adorf = TicketScope(("buergerservice",), ("adorf",), "musterstadt")
    home = TicketScope(None, ("musterstadt",), "musterstadt")
    with services_of(app).sessions() as db:
        assert [t.case_number for t in service.list_tickets(db, None, 10, adorf)] == [TOWN_A]
        assert [t.case_number for t in service.list_tickets(db, None, 10, home)] == [TOWN_B]
        assert [t.case_number for t in service.list_tickets(db, None, 10, TicketScope())] == [TOWN_A, TOWN_B]
        assert service.waiting_count(db, adorf) == 1 and service.waiting_count(db, None) == 2
        assert set(live_state(db, adorf, "weber")["tickets"]) == {TOWN_A}
        assert sum(d.count for d in analytics.overview(db, adorf).per_day) == 1
        assert sum(row.open for row in breakdown.per_department(db, adorf)) == 1
        assert service.list_tickets(db, None, 10, TicketScope(None, (), "musterstadt")) == []
        ticket_b = service.get_ticket(db, TOWN_B)
        assert ticket_b is not None and home.allows(ticket_b) and not adorf.allows(ticket_b)


# --- agents -------------------------------------------------------------------------------------------------------


def test_an_agent_of_one_town_cannot_list_open_or_change_the_other_towns_tickets(app: FastAPI) -> None:
    client = account(app, "weber", ["adorf"], "buergerservice")
    queue = client.get("/inbox?status=all").text
    assert TOWN_A in queue and TOWN_B not in queue
    assert client.get(f"/inbox/tickets/{TOWN_A}").status_code == 200
    assert client.get(f"/inbox/tickets/{TOWN_B}").status_code == 404  # as for a number that does not exist
    assert client.get(f"/inbox/tickets/{TOWN_B}/verlauf").status_code == 404
    token = token_of(client)
    for action, fields in (("assign", {}), ("reply", {"text": "Hallo"}), ("note", {"text": "x"}),
                           ("status", {"status": "resolved"}), ("hand-back", {}), ("link", {"faq_id": "__kein__"}),
                           ("transfer", {"department": "standesamt", "note": "bitte"})):
        answer = client.post(f"/inbox/tickets/{TOWN_B}/{action}", data={"csrf_token": token, **fields},
                             follow_redirects=False)
        assert answer.status_code == 404, action
    other = stored(app, TOWN_B)
    assert (other.status, other.assignee, other.department) == ("new", None, "buergerservice")
    assert events_of(app, TOWN_B) == ["created"]  # not even a read was recorded


def test_live_events_analytics_and_csv_carry_only_the_agents_town(app: FastAPI) -> None:
    client = account(app, "weber", ["adorf"], "buergerservice")
    state = client.get("/inbox/events/state").json()
    assert set(state["tickets"]) == {TOWN_A} and state["waiting"] == 1
    watched = client.get("/inbox/events/state", params={"fall": TOWN_B}).json()
    assert TOWN_B not in watched["tickets"]
    with client.stream("GET", "/inbox/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                assert set(json.loads(line[6:])["tickets"]) == {TOWN_A}
                break
    assert client.get("/inbox/analytics").status_code == 200
    csv = client.get("/inbox/analytics.csv", params={"table": "departments", "days": 14}).text
    assert "Bürgerservice;1;" in csv.replace("\ufeff", "")


def test_a_manager_of_one_town_sees_only_that_towns_tickets_and_figures(app: FastAPI) -> None:
    chief = account(app, "chefin", ["adorf"], manager=True)
    queue = chief.get("/inbox?status=all").text
    assert TOWN_A in queue and TOWN_B not in queue
    assert chief.get(f"/inbox/tickets/{TOWN_B}").status_code == 404
    figures = chief.get("/inbox/analytics").text
    assert "Behörden: Gemeinde Adorf." in figures and "1 Ticket insgesamt" in figures
    global_chief = account(app, "admin", None, manager=True)
    assert TOWN_B in global_chief.get("/inbox?status=all").text
    assert global_chief.get(f"/inbox/tickets/{TOWN_B}").status_code == 200


def test_older_rows_without_agencies_see_every_town(app: FastAPI) -> None:
    client = account(app, "alt", None, "buergerservice")
    queue = client.get("/inbox?status=all").text
    assert TOWN_A in queue and TOWN_B in queue


# --- accounts -------------------------------------------------------------------------------------------------


def test_agency_rules_for_new_accounts() -> None:
    towns = ["musterstadt", "adorf"]
    assert check_agencies(["adorf", "adorf"], towns) == ["adorf"]
    assert check_agencies([], towns, everything=True) is None
    assert check_agencies([], ["default"]) is None  # a single agency: every account works for it
    with pytest.raises(AgencyScopeError, match="unknown agency 'bdorf'; one of musterstadt, adorf"):
        check_agencies(["bdorf"], towns)
    with pytest.raises(AgencyScopeError, match="--agency KEY") as missing:
        check_agencies([], towns)
    assert missing.value.code == "no_agency"
    with pytest.raises(AgencyScopeError, match="'musterstadt'"):
        check_agencies(["musterstadt"], towns, granted_by=["adorf"])
    with pytest.raises(AgencyScopeError, match="every agency"):
        check_agencies([], towns, everything=True, granted_by=["adorf"])
    assert manages(None, None) and manages(["adorf"], ["adorf"]) and not manages(["adorf"], None)
    assert not manages(["adorf"], ["adorf", "musterstadt"])


def test_a_manager_of_one_town_manages_only_that_towns_accounts(app: FastAPI) -> None:
    chief = account(app, "chefin", ["adorf"], manager=True)
    account(app, "weber", ["adorf"], "buergerservice")
    account(app, "mueller", ["musterstadt"], "buergerservice")
    account(app, "admin", None, manager=True)
    page = chief.get("/inbox/accounts").text
    assert "weber" in page and "mueller" not in page and "admin" not in page
    assert 'value="musterstadt"' not in page and 'value="*"' not in page and 'value="adorf"' in page
    token = token_of(chief, "/inbox/accounts")
    assert chief.get("/inbox/accounts/mueller").status_code == 404
    assert chief.get("/inbox/accounts/admin").status_code == 404
    for path, fields in (("mueller", {"display_name": "X", "departments": "buergerservice", "agencies": "adorf"}),
                         ("mueller/password", {"password": "x" * 20, "password_repeat": "x" * 20}),
                         ("mueller/disable", {}), ("mueller/revoke-sessions", {}), ("mueller/remove", {"confirm": "ja"}),
                         ("admin/disable", {})):
        answer = chief.post(f"/inbox/accounts/{path}", data={"csrf_token": token, **fields}, follow_redirects=False)
        assert answer.status_code == 404, path
    new = {"csrf_token": token, "username": "neu", "display_name": "Frau Neu", "password": PASSWORD,
           "password_repeat": PASSWORD, "departments": "buergerservice"}
    outside = chief.post("/inbox/accounts", data={**new, "agencies": "musterstadt"})
    assert outside.status_code == 400 and "Diese Behörde verwalten Sie nicht" in outside.text
    unscoped = chief.post("/inbox/accounts", data={**new, "agencies": "*"})
    assert unscoped.status_code == 400
    assert chief.post("/inbox/accounts", data={**new, "agencies": "adorf"}, follow_redirects=False).status_code == 303
    promote = chief.post("/inbox/accounts/weber", data={"csrf_token": token, "display_name": "Frau Weber",
                                                        "departments": "buergerservice", "agencies": "musterstadt"})
    assert promote.status_code == 400
    with services_of(app).sessions() as db:
        agents = {a.username: a for a in db.query(Agent)}
        assert agents["neu"].agencies == ["adorf"] and agents["weber"].agencies == ["adorf"]
        assert agents["mueller"].active and agents["admin"].active
        assert [e.detail["agencies"] for e in db.query(StaffAudit) if e.target == "neu"] == [["adorf"]]


def test_a_new_account_must_name_its_agencies_in_the_browser(app: FastAPI) -> None:
    admin = account(app, "admin", None, manager=True)
    token = token_of(admin, "/inbox/accounts")
    page = admin.get("/inbox/accounts").text
    assert "alle Behörden (Administration)" in page and 'value="*"' in page
    new = {"csrf_token": token, "username": "neu", "display_name": "Frau Neu", "password": PASSWORD,
           "password_repeat": PASSWORD, "departments": "buergerservice"}
    missing = admin.post("/inbox/accounts", data=new)
    assert missing.status_code == 400 and "mindestens eine Behörde" in missing.text
    assert admin.post("/inbox/accounts", data={**new, "agencies": "bdorf"}).status_code == 400
    assert admin.post("/inbox/accounts", data={**new, "agencies": "*"}, follow_redirects=False).status_code == 303
    with services_of(app).sessions() as db:
        assert db.query(Agent).filter_by(username="neu").one().agencies is None


def test_cli_asks_for_agencies_where_the_deployment_serves_several(app: FastAPI, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import build_parser

    monkeypatch.setattr("bot.config.settings.get_settings", lambda: services_of(app).settings)
    monkeypatch.setenv("AUSKUNFT_AGENT_PASSWORD", PASSWORD)

    def run(*argv: str) -> int:
        args = build_parser().parse_args(list(argv))
        return int(args.func(args))

    assert run("agent", "add", "weber", "--name", "Frau Weber", "--department", "buergerservice") == 1
    assert "name the account's agencies with --agency KEY" in capsys.readouterr().err
    assert run("agent", "add", "weber", "--name", "Frau Weber", "--agency", "bdorf") == 1
    assert "unknown agency 'bdorf'" in capsys.readouterr().err
    assert run("agent", "add", "weber", "--name", "Frau Weber", "--department", "buergerservice",
               "--agency", "adorf") == 0
    assert run("agent", "add", "admin", "--name", "Herr Admin", "--manager", "--all-agencies") == 0
    assert run("agent", "list") == 0
    listing = capsys.readouterr().out
    assert "[adorf]" in listing and "[all agencies]" in listing


# --- editors ------------------------------------------------------------------------------------------------------


def test_an_editor_of_one_town_cannot_reach_the_other_towns_kb(app: FastAPI) -> None:
    editor = account(app, "redaktion", ["adorf"], editor=True)
    assert editor.get("/inbox/editor/check", params={"agency": "adorf"}).status_code == 200
    for path in ("/inbox/editor", "/inbox/editor/check", "/inbox/editor/analytics", "/inbox/editor/entries",
                 "/inbox/editor/suggestions", "/inbox/editor/entries/new"):
        assert editor.get(path, params={"agency": "musterstadt"}, follow_redirects=False).status_code == 404, path
        moved = editor.get(path, follow_redirects=False)  # no ?agency=: the default town is not theirs
        assert moved.status_code == 303 and moved.headers["location"].endswith("agency=adorf"), path
    page = editor.get("/inbox/editor/check", params={"agency": "adorf"}).text
    assert '<option value="musterstadt"' not in page
    token = token_of(editor, "/inbox/editor/check?agency=adorf")
    sent: Any = editor.post("/inbox/editor/entries/new", data={"csrf_token": token, "agency": "musterstadt",
                                                               "id": "neu", "title": "T", "action": "preview"},
                            follow_redirects=False)
    assert sent.status_code == 404
    sent = editor.post("/inbox/editor/entries/new?agency=musterstadt", data={"csrf_token": token, "id": "neu"},
                       follow_redirects=False)
    assert sent.status_code == 404


def test_an_agent_who_is_no_editor_still_gets_the_403_page(app: FastAPI) -> None:
    client = account(app, "weber", ["adorf"], "buergerservice")
    page = client.get("/inbox/editor/check", params={"agency": "adorf"})
    assert page.status_code == 403 and "Kein Zugriff auf die Redaktion" in page.text
    accounts = client.get("/inbox/accounts")
    assert accounts.status_code == 403 and "Konten verwaltet nur die Leitung" in accounts.text
