"""The agent inbox over HTTP (TestClient on a real database: SQLite and PostgreSQL): logins, sessions, CSRF, departments,
queue, ticket actions, audit log and analytics; plus agent creation, passwords and the CLI."""

from __future__ import annotations

import hashlib
import re
import weakref
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.config.settings import Settings
from bot.limits.memory import MemoryLimiter
from bot.staff.auth import aware as auth_aware
from bot.staff.auth import create_agent
from bot.staff.models import AgentSession
from bot.staff.throttle import LoginThrottle
from bot.tickets import analytics, service
from bot.tickets.models import Ticket, utcnow
from bot.web.app import create_app
from bot.web.deps import get_login_throttle, get_reply_hook, services_of
from tests.helpers.inbox import CSRF, PASSWORD, add_ticket, login
from tests.helpers.postgres import DATABASES, drop_postgres, postgres_url
from tests.helpers.ticket_api import AUTH, TOKEN

AppFactory = Callable[..., FastAPI]


class Clock:
    """A clock the test moves (seconds)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

# Per app: what its reply hook was called with (case number, text).
REPLIES: "weakref.WeakKeyDictionary[FastAPI, List[Tuple[str, str]]]" = weakref.WeakKeyDictionary()


def replies(app: FastAPI) -> List[Tuple[str, str]]:
    """The replies an app made by ``make_app`` handed to its reply hook (the one that notifies citizens)."""
    return REPLIES[app]


@pytest.fixture(params=DATABASES)
def make_app(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppFactory]:
    """Apps on a real database: SQLite, and PostgreSQL (a fresh database per app)."""
    apps: List[FastAPI] = []
    urls: List[str] = []

    def factory(**overrides: Any) -> FastAPI:
        home = tmp_path / f"home{len(apps)}"
        url = f"sqlite:///{tmp_path / f'tickets{len(apps)}.sqlite3'}" if request.param == "sqlite" else postgres_url()
        urls.append(url)
        app = create_app(Settings(home=home, api_token=TOKEN, database_url=url, **overrides))
        sent: List[Tuple[str, str]] = []
        app.dependency_overrides[get_reply_hook] = lambda: lambda session, ticket, reply: sent.append(
            (ticket.case_number, reply.text))
        REPLIES[app] = sent
        apps.append(app)
        return app

    yield factory
    for app in apps:
        services_of(app).close()
    for url in urls:
        if url.startswith("postgresql"):
            drop_postgres(url)


@pytest.fixture
def app(make_app: AppFactory) -> FastAPI:
    return make_app()


def agent(app: FastAPI, username: str, departments: List[str], manager: bool = False, name: str = "") -> None:
    with services_of(app).sessions() as session:
        create_agent(session, username, name or f"Frau {username.title()}", PASSWORD, departments, manager,
                     known=services_of(app).departments)


def load(app: FastAPI, case: str) -> Ticket:
    with services_of(app).sessions() as session:
        found = service.get_ticket(session, case)
        assert found is not None
        return found


def logged_in(app: FastAPI, username: str) -> TestClient:
    client = TestClient(app)
    assert login(client, username).status_code == 303
    return client


def csrf(client: TestClient) -> str:
    found = CSRF.search(client.get("/inbox").text)
    assert found is not None
    return found.group(1)


def post(client: TestClient, path: str, token: Optional[str], **fields: str) -> Any:
    data = dict(fields, **({"csrf_token": token} if token is not None else {}))
    return client.post(path, data=data, follow_redirects=False)


# --- login, sessions, CSRF -------------------------------------------------------------------------------------


def test_login_sets_a_strict_session_cookie_and_stores_only_its_hash(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    client = TestClient(app)
    assert client.get("/inbox", follow_redirects=False).headers["location"] == "/inbox/login?next=%2Finbox"
    response = login(client, "Weber", next_url="/inbox/analytics")
    assert response.status_code == 303 and response.headers["location"] == "/inbox/analytics"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("auskunft_agent="))
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/inbox" in lowered
    assert "max-age=28800" in lowered and "expires=" in lowered and "secure" not in lowered
    token = cookie.split(";")[0].split("=", 1)[1]
    with services_of(app).sessions() as session:
        row = session.execute(select(AgentSession)).scalar_one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash
    page = client.get("/inbox")
    assert page.status_code == 200 and "Frau Weber" in page.text and page.headers["cache-control"] == "no-store"


def test_wrong_password_or_unknown_user_is_refused(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    client = TestClient(app)
    for username, password in (("weber", "falsches-passwort-1"), ("niemand", PASSWORD), ("x", PASSWORD)):
        response = login(client, username, password)
        assert response.status_code == 401 and "Benutzername oder Passwort ist falsch" in response.text
        assert "auskunft_agent=" not in response.headers.get("set-cookie", "")
    assert client.get("/inbox", follow_redirects=False).status_code == 303


def test_secure_cookie_when_configured(make_app: AppFactory) -> None:
    app = make_app(secure_cookies=True)
    agent(app, "weber", ["buergerservice"])
    response = login(TestClient(app, base_url="https://testserver"), "weber")
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("auskunft_agent="))
    assert "secure" in cookie.lower()


def test_login_redirects_only_to_local_inbox_paths(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    for target, expected in (("/inbox/tickets/AK-AAAA-AAAA?x=1", "/inbox/tickets/AK-AAAA-AAAA?x=1"),
                             ("https://evil.example/inbox", "/inbox"), ("//evil.example", "/inbox"),
                             ("/\\evil.example", "/inbox"), ("/api/tickets", "/inbox"), ("/inboxx", "/inbox")):
        assert login(TestClient(app), "weber", next_url=target).headers["location"] == expected, target


def test_login_form_needs_its_double_submit_token(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    client = TestClient(app)
    client.get("/inbox/login")  # sets the login CSRF cookie
    for token in (None, "wrong"):
        data = {"username": "weber", "password": PASSWORD, **({"csrf_token": token} if token else {})}
        response = client.post("/inbox/login", data=data, follow_redirects=False)
        assert response.status_code == 403 and "auskunft_agent=" not in response.headers.get("set-cookie", "")


def test_login_waits_after_five_failures_then_the_right_password_works(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    agent(app, "schulz", ["buergerservice"])
    clock = Clock()
    throttle = LoginThrottle(MemoryLimiter(clock), "secret", clock)
    app.dependency_overrides[get_login_throttle] = lambda: throttle
    client = TestClient(app)
    for _ in range(5):
        assert login(client, "weber", "falsches-passwort-1").status_code == 401
        clock.now += 1.5  # a person needs longer than that to type again
    clock.now -= 1.0  # 0.5 s after the fifth failure: the first delay (1 s) is not over
    refused = login(client, "weber")  # even the right password is not checked during the delay
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert "Zu viele fehlgeschlagene Anmeldungen. Bitte warten Sie 1 Sekunde und versuchen" in refused.text
    assert "auskunft_agent=" not in refused.headers.get("set-cookie", "")
    assert login(TestClient(app), "schulz").status_code == 303  # other users are not affected
    clock.now += 0.6
    assert login(client, "weber").status_code == 303  # no lock-out beyond the delay


def test_a_password_spray_from_one_ipv6_network_behind_the_proxy_waits(make_app: AppFactory) -> None:
    app = make_app(trusted_proxies="10.0.0.0/8")
    agent(app, "weber", ["buergerservice"])
    clock = Clock()
    throttle = LoginThrottle(MemoryLimiter(clock), "secret", clock, free_per_address=3)
    app.dependency_overrides[get_login_throttle] = lambda: throttle

    def client(address: str) -> TestClient:  # behind the reverse proxy 10.0.0.5, which names the client
        return TestClient(app, client=("10.0.0.5", 40000), headers={"X-Forwarded-For": address})

    for number, name in enumerate(("anna", "berta", "clara"), start=1):  # one try per name, addresses of one /64
        assert login(client(f"2001:db8::{number}"), name, "falsches-passwort-1").status_code == 401
        clock.now += 1.5
    clock.now -= 1.0
    refused = login(client("2001:db8::ffff:1"), "weber")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert login(client("2001:db8:0:1::1"), "weber").status_code == 303  # another /64 is another address


def test_cookies_are_secure_by_default_behind_an_https_public_url(make_app: AppFactory) -> None:
    for overrides, secure in (({"public_url": "https://www.musterstadt.de"}, True),
                              ({"public_url": "http://intranet.local"}, False),
                              ({"public_url": "https://www.musterstadt.de", "secure_cookies": False}, False),
                              ({"secure_cookies": True}, True)):
        app = make_app(**overrides)
        agent(app, "weber", ["buergerservice"])
        client = TestClient(app, base_url="https://testserver")
        form = client.get("/inbox/login").headers["set-cookie"]
        cookie = next(c for c in login(client, "weber").headers.get_list("set-cookie")
                      if c.startswith("auskunft_agent="))
        assert ("secure" in cookie.lower()) is secure and ("secure" in form.lower()) is secure, overrides


def test_an_idle_session_ends_and_a_used_one_slides(make_app: AppFactory) -> None:
    app = make_app(session_idle_minutes=30)
    agent(app, "weber", ["buergerservice"])
    client = logged_in(app, "weber")

    def session_row() -> AgentSession:
        with services_of(app).sessions() as session:
            return session.execute(select(AgentSession)).scalar_one()

    row = session_row()
    assert auth_aware(row.expires_at) - auth_aware(row.created_at) == timedelta(minutes=30)
    with services_of(app).sessions() as session:  # the last request was 20 minutes ago
        stored = session.execute(select(AgentSession)).scalar_one()
        stored.created_at, stored.expires_at = (auth_aware(stored.created_at) - timedelta(minutes=20),
                                                auth_aware(stored.expires_at) - timedelta(minutes=20))
        session.commit()
    assert client.get("/inbox").status_code == 200
    assert auth_aware(session_row().expires_at) - utcnow() > timedelta(minutes=29)  # 30 minutes from now again
    with services_of(app).sessions() as session:  # now 31 minutes without a request
        session.execute(select(AgentSession)).scalar_one().expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
    assert client.get("/inbox", follow_redirects=False).headers["location"].startswith("/inbox/login")


def test_expired_session_redirects_to_login_and_is_deleted(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    client = logged_in(app, "weber")
    with services_of(app).sessions() as session:
        session.execute(select(AgentSession)).scalar_one().expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
    response = client.get("/inbox/analytics", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/inbox/login?next=%2Finbox%2Fanalytics"
    with services_of(app).sessions() as session:
        assert session.execute(select(AgentSession)).first() is None


def test_logout_ends_the_session(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    client = logged_in(app, "weber")
    token = csrf(client)
    assert post(client, "/inbox/logout", None).status_code == 403  # CSRF protected too
    response = post(client, "/inbox/logout", token)
    assert response.status_code == 303 and response.headers["location"].startswith("/inbox/login")
    assert client.get("/inbox", follow_redirects=False).status_code == 303
    with services_of(app).sessions() as session:
        assert session.execute(select(AgentSession)).first() is None


ACTIONS = [("assign", {}), ("status", {"status": "resolved"}), ("reply", {"text": "Hallo"}),
           ("note", {"text": "intern"}), ("transfer", {"department": "standesamt", "note": "falsch"}),
           ("hand-back", {})]


@pytest.mark.parametrize("action, fields", ACTIONS)
def test_forms_without_the_right_csrf_token_change_nothing(app: FastAPI, action: str,
                                                           fields: Dict[str, str]) -> None:
    agent(app, "weber", ["buergerservice"])
    add_ticket(app, "AK-AAAA-0001", holds_conversation=True)
    client = logged_in(app, "weber")
    for token in (None, "", "falsches-token", csrf(client) + "x"):
        assert post(client, f"/inbox/tickets/AK-AAAA-0001/{action}", token, **fields).status_code == 403, token
    stored = load(app, "AK-AAAA-0001")
    assert (stored.status, stored.assignee, stored.department, stored.holds_conversation) == (
        "new", None, "buergerservice", True)
    assert [e.kind for e in stored.events] == ["created"] and stored.replies == [] and replies(app) == []
    assert post(client, f"/inbox/tickets/AK-AAAA-0001/{action}", csrf(client), **fields).status_code == 303


# --- departments and the queue ---------------------------------------------------------------------------------


def test_agents_see_and_change_only_their_departments(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    add_ticket(app, "AK-AAAA-0001", owner="Bürgeramt")
    add_ticket(app, "AK-BBBB-0002", owner="Standesamt")
    client = logged_in(app, "weber")
    queue = client.get("/inbox").text
    assert "AK-AAAA-0001" in queue and "AK-BBBB-0002" not in queue
    assert client.get("/inbox?department=standesamt&status=all").text.count("AK-BBBB-0002") == 0
    assert client.get("/inbox/tickets/AK-BBBB-0002").status_code == 404
    assert client.get("/inbox/tickets/AK-ZZZZ-9999").status_code == 404
    token = csrf(client)
    for action, fields in ACTIONS:
        assert post(client, f"/inbox/tickets/AK-BBBB-0002/{action}", token, **fields).status_code == 404
    other = load(app, "AK-BBBB-0002")
    assert (other.status, other.assignee, other.department) == ("new", None, "standesamt")
    assert [e.kind for e in other.events] == ["created"] and replies(app) == []


def test_manager_sees_all_departments(app: FastAPI) -> None:
    agent(app, "chefin", [], manager=True)
    add_ticket(app, "AK-AAAA-0001", owner="Bürgeramt")
    add_ticket(app, "AK-BBBB-0002", owner="Standesamt")
    client = logged_in(app, "chefin")
    queue = client.get("/inbox").text
    assert "AK-AAAA-0001" in queue and "AK-BBBB-0002" in queue and "(Leitung)" in queue
    assert client.get("/inbox/tickets/AK-BBBB-0002").status_code == 200
    assert "AK-AAAA-0001" not in client.get("/inbox?department=standesamt").text


def test_queue_filters_oldest_first_and_waiting_count(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice", "standesamt"])
    now = utcnow()
    add_ticket(app, "AK-AAAA-0003", created=now - timedelta(hours=1))
    add_ticket(app, "AK-AAAA-0001", created=now - timedelta(days=2), language="en")
    add_ticket(app, "AK-AAAA-0002", owner="Wahlamt", created=now - timedelta(hours=5))
    add_ticket(app, "AK-AAAA-0004", owner="Standesamt", created=now - timedelta(hours=3), status="in_progress")
    add_ticket(app, "AK-AAAA-0005", created=now - timedelta(days=3), status="resolved")
    add_ticket(app, "AK-BBBB-0009", owner="Kfz-Zulassungsstelle")  # another department: never counted
    client = logged_in(app, "weber")

    def cases(query: str = "") -> List[str]:
        return re.findall(r'<a href="/inbox/tickets/(AK-[A-Z0-9-]+)">', client.get(f"/inbox{query}").text)

    page = client.get("/inbox").text
    assert '<strong>3</strong>' in page and "neue Anfragen warten" in page  # status new, in my departments
    assert cases() == ["AK-AAAA-0001", "AK-AAAA-0002", "AK-AAAA-0004", "AK-AAAA-0003"]  # oldest first, open
    assert cases("?status=resolved") == ["AK-AAAA-0005"]
    assert cases("?status=all") == ["AK-AAAA-0005", "AK-AAAA-0001", "AK-AAAA-0002", "AK-AAAA-0004", "AK-AAAA-0003"]
    assert cases("?status=in_progress") == ["AK-AAAA-0004"]
    assert cases("?language=en") == ["AK-AAAA-0001"]
    assert cases("?topic=Wahlamt") == ["AK-AAAA-0002"]
    assert cases("?department=standesamt") == ["AK-AAAA-0004"]
    assert '<option value="Wahlamt">Wahlamt</option>' in page and "Kfz-Zulassungsstelle" not in page
    assert "In Bearbeitung" in page and "Neu" in page and "Wohnsitz" in page and "Standesamt" in page
    assert "2 Tg." in page


# --- the ticket page and its actions ---------------------------------------------------------------------------


def test_detail_shows_transcript_candidates_and_contact_with_html_escaped(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    add_ticket(app, "AK-AAAA-0001", transcript=[
        {"role": "citizen", "text": '<script>alert("x")</script> Ich bin umgezogen.'},
        {"role": "bot", "text": "Darf ich weiterleiten?"}, {"role": "agent", "text": "Ich helfe gern."}],
        question="<b>Ummeldung</b>?")
    page = logged_in(app, "weber").get("/inbox/tickets/AK-AAAA-0001")
    assert page.status_code == 200
    text = page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Ich bin umgezogen." in text
    assert "<script>" not in text and "<b>Ummeldung" not in text and "&lt;b&gt;Ummeldung&lt;/b&gt;?" in text
    assert re.findall(r"<script[^>]*>", text) == [f'<script src="/inbox-static/{name}.js" defer>'  # only our files
                                                  for name in ("live", "canned", "keys", "notify")]
    assert "Bürgerin/Bürger" in text and "Assistent" in text and "Sachbearbeitung" in text
    assert "ummeldung" in text and "<td>0,71</td>" in text and "<td>0,42</td>" in text and "Bürgeramt" in text
    assert 'href="mailto:max@example.org"' in text and "Ja, die anfragende Person hat der Weiterleitung zugestimmt" in text
    assert "Bürgerservice" in text and "Neu" in text and "Antwort zu unsicher" in text
    assert 'lang="de"' in text and 'href="#inhalt"' in text and "style=" not in text and "<style" not in text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_every_detail_view_is_written_to_the_audit_log(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    add_ticket(app, "AK-AAAA-0001")
    client = logged_in(app, "weber")
    client.get("/inbox/tickets/AK-AAAA-0001")
    page = client.get("/inbox/tickets/AK-AAAA-0001")
    reads = [e for e in load(app, "AK-AAAA-0001").events if e.kind == "read"]
    assert [e.actor for e in reads] == ["weber", "weber"]
    assert "2 Mal angesehen" in page.text


def test_assign_to_me(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    add_ticket(app, "AK-AAAA-0001")
    client = logged_in(app, "weber")
    response = post(client, "/inbox/tickets/AK-AAAA-0001/assign", csrf(client))
    assert response.status_code == 303 and response.headers["location"].startswith("/inbox/tickets/AK-AAAA-0001")
    stored = load(app, "AK-AAAA-0001")
    assert (stored.status, stored.assignee, stored.holds_conversation) == ("in_progress", "weber", True)
    assert "Sie haben das Ticket übernommen." in client.get(response.headers["location"]).text


def test_reply_calls_the_hook_and_waits_for_the_citizen(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"], name="Frau Weber")
    add_ticket(app, "AK-AAAA-0001")
    client = logged_in(app, "weber")
    token = csrf(client)
    assert post(client, "/inbox/tickets/AK-AAAA-0001/reply", token, text="   ").status_code == 303
    assert load(app, "AK-AAAA-0001").replies == [] and replies(app) == []
    response = post(client, "/inbox/tickets/AK-AAAA-0001/reply", token, text="Bitte kommen Sie mit <Ausweis>.")
    assert response.status_code == 303
    stored = load(app, "AK-AAAA-0001")
    assert replies(app) == [("AK-AAAA-0001", "Bitte kommen Sie mit <Ausweis>.")]
    assert stored.status == "waiting" and stored.holds_conversation and stored.first_reply_at is not None
    assert stored.replies[0].author == "Frau Weber, Bürgerservice"
    assert [e.actor for e in stored.events if e.kind == "reply"] == ["weber"]
    assert "Bitte kommen Sie mit &lt;Ausweis&gt;." in client.get(response.headers["location"]).text


def test_internal_note(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    add_ticket(app, "AK-AAAA-0001")
    client = logged_in(app, "weber")
    post(client, "/inbox/tickets/AK-AAAA-0001/note", csrf(client), text="Rückruf vereinbart")
    notes = [(e.actor, e.text) for e in load(app, "AK-AAAA-0001").events if e.kind == "note"]
    assert notes == [("weber", "Rückruf vereinbart")]
    assert "Rückruf vereinbart" in client.get("/inbox/tickets/AK-AAAA-0001").text


def test_status_change(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    add_ticket(app, "AK-AAAA-0001", holds_conversation=True)
    client = logged_in(app, "weber")
    token = csrf(client)
    post(client, "/inbox/tickets/AK-AAAA-0001/status", token, status="bogus")
    assert load(app, "AK-AAAA-0001").status == "new"
    post(client, "/inbox/tickets/AK-AAAA-0001/status", token, status="resolved")
    stored = load(app, "AK-AAAA-0001")
    assert (stored.status, stored.holds_conversation) == ("resolved", False)
    assert "Status: Neu → Erledigt" in client.get("/inbox/tickets/AK-AAAA-0001").text


def test_transfer_keeps_the_history_and_moves_the_ticket(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    agent(app, "schulz", ["standesamt"], name="Herr Schulz")
    add_ticket(app, "AK-AAAA-0001")
    weber, schulz = logged_in(app, "weber"), logged_in(app, "schulz")
    token = csrf(weber)
    post(weber, "/inbox/tickets/AK-AAAA-0001/assign", token)
    post(weber, "/inbox/tickets/AK-AAAA-0001/note", token, text="Geht um eine Eheschließung")
    missing = post(weber, "/inbox/tickets/AK-AAAA-0001/transfer", token, department="standesamt", note=" ")
    assert missing.headers["location"].endswith("meldung=notiz_fehlt")
    assert load(app, "AK-AAAA-0001").department == "buergerservice"
    response = post(weber, "/inbox/tickets/AK-AAAA-0001/transfer", token, department="standesamt",
                    note="Bitte übernehmen")
    assert response.status_code == 303 and response.headers["location"].startswith("/inbox?meldung=uebergeben")
    assert "Ticket AK-AAAA-0001 wurde übergeben. Zuständig ist jetzt: Standesamt." in weber.get(response.headers["location"]).text
    stored = load(app, "AK-AAAA-0001")
    assert (stored.department, stored.assignee, stored.status) == ("standesamt", None, "new")
    assert [e.kind for e in stored.events if e.kind != "read"] == ["created", "assigned", "note", "transferred"]
    assert weber.get("/inbox/tickets/AK-AAAA-0001").status_code == 404
    assert "AK-AAAA-0001" not in weber.get("/inbox").text and "AK-AAAA-0001" in schulz.get("/inbox").text
    detail = schulz.get("/inbox/tickets/AK-AAAA-0001").text
    assert "Geht um eine Eheschließung" in detail and "Bitte übernehmen" in detail
    assert "Übergeben: Bürgerservice → Standesamt" in detail


def test_hand_back_to_the_bot(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    add_ticket(app, "AK-AAAA-0001")
    client = logged_in(app, "weber")
    token = csrf(client)
    post(client, "/inbox/tickets/AK-AAAA-0001/assign", token)
    assert "Gespräch an den Assistenten zurückgeben" in client.get("/inbox/tickets/AK-AAAA-0001").text
    post(client, "/inbox/tickets/AK-AAAA-0001/hand-back", token)
    stored = load(app, "AK-AAAA-0001")
    assert stored.holds_conversation is False and stored.status == "in_progress"
    assert stored.events[-1].kind == "handed_back" and stored.events[-1].actor == "weber"


# --- analytics -------------------------------------------------------------------------------------------------


def test_percentile_interpolates_like_numpy() -> None:
    assert analytics.percentile([], 0.5) is None
    assert analytics.percentile([7.0], 0.9) == 7.0
    assert analytics.percentile([40.0, 10.0, 30.0, 20.0], 0.5) == 25.0
    assert analytics.percentile([10.0, 20.0, 30.0, 40.0], 0.9) == pytest.approx(37.0)


def test_analytics_figures_on_seeded_tickets(app: FastAPI) -> None:
    now = datetime(2025, 3, 14, 12, 0, tzinfo=timezone.utc)
    day = timedelta(days=1)
    minutes = [10, 20, 30, 40]  # median 25 min; p90 = 30 + 0.7 * 10 = 37 min
    for i, wait in enumerate(minutes):
        created = now - day * i - timedelta(hours=1)
        add_ticket(app, f"AK-AAAA-000{i}", created=created, first_reply_at=created + timedelta(minutes=wait),
               status="waiting", reason="asked_for_human" if i % 2 else "low_confidence", out_of_hours=i == 0)
    add_ticket(app, "AK-AAAA-0010", created=now - timedelta(hours=2), reason="no_candidates")  # same day, no reply
    add_ticket(app, "AK-AAAA-0011", created=now - 30 * day, first_reply_at=now - 30 * day + timedelta(hours=5))  # too old
    add_ticket(app, "AK-BBBB-0001", owner="Standesamt", created=now - timedelta(hours=3), reason="not_helpful",
           first_reply_at=now, status="in_progress")
    with services_of(app).sessions() as session:
        mine = analytics.overview(session, ["buergerservice"], days=14, now=now)
        everything = analytics.overview(session, None, days=14, now=now)
    assert [d.count for d in mine.per_day][-4:] == [1, 1, 1, 2] and sum(d.count for d in mine.per_day) == 5
    assert mine.per_day[-1].day.isoformat() == "2025-03-14" and len(mine.per_day) == 14
    assert mine.reply_times.replied == 4
    assert mine.reply_times.median_seconds == 25 * 60 and mine.reply_times.p90_seconds == pytest.approx(37 * 60)
    assert mine.backlog == {"new": 2, "in_progress": 0, "waiting": 4}
    assert mine.reasons == {"low_confidence": 2, "asked_for_human": 2, "not_helpful": 0, "choices_rejected": 0,
                            "repeated_miss": 0, "no_candidates": 1}
    assert mine.out_of_hours == 1 and mine.total == 5
    assert everything.total == 6 and everything.reasons["not_helpful"] == 1
    assert everything.backlog["in_progress"] == 1 and everything.reply_times.replied == 5


def test_analytics_page_per_scope(app: FastAPI) -> None:
    agent(app, "weber", ["buergerservice"])
    agent(app, "chefin", [], manager=True)
    now = utcnow()
    for i, wait in enumerate([10, 20, 30, 40]):
        created = now - timedelta(days=1, minutes=10 * i)
        add_ticket(app, f"AK-AAAA-000{i}", created=created, first_reply_at=created + timedelta(minutes=wait))
    add_ticket(app, "AK-BBBB-0001", owner="Standesamt", created=now - timedelta(hours=3),
           first_reply_at=now - timedelta(hours=1), out_of_hours=True)
    page = logged_in(app, "weber").get("/inbox/analytics").text
    assert '<dd id="median">25 Min.</dd>' in page and '<dd id="p90">37 Min.</dd>' in page
    assert '<td id="out-of-hours">0</td>' in page and "Bürgerservice. Tickets der letzten 14 Tage: 4 Tickets insgesamt" in page
    assert "<svg" in page and "<rect" in page and "style=" not in page
    manager = logged_in(app, "chefin").get("/inbox/analytics").text
    assert "Abteilungen: alle. Tickets der letzten 14 Tage: 5 Tickets insgesamt" in manager
    assert '<td id="out-of-hours">1</td>' in manager and '<dd id="median">30 Min.</dd>' in manager


# --- every protected route refuses anonymous access ------------------------------------------------------------


def test_every_inbox_and_api_route_refuses_anonymous_requests(app: FastAPI) -> None:
    client = TestClient(app)
    checked = {"inbox": 0, "api": 0}
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        path = re.sub(r"\{[^}]+\}", "AK-AAAA-0001", route.path)
        for method in sorted(route.methods or ()):
            if route.path.startswith("/inbox") and route.path != "/inbox/login":
                response = client.request(method, path, follow_redirects=False)
                if method == "GET" and route.endpoint.__module__ != "bot.web.routers.inbox_live":  # live: 401
                    assert response.status_code == 303, (method, path)
                    assert response.headers["location"].startswith("/inbox/login?next="), path
                else:
                    assert response.status_code in (401, 403), (method, path)
                checked["inbox"] += 1
            elif route.path.startswith(("/api/tickets", "/api/feedback")):
                assert client.request(method, path, follow_redirects=False).status_code == 401, (method, path)
                wrong = client.request(method, path, headers={"Authorization": "Bearer wrong"},
                                       follow_redirects=False)
                assert wrong.status_code == 401, (method, path)
                checked["api"] += 1
    assert checked["inbox"] >= 9 and checked["api"] >= 5
    assert client.get("/api/feedback/summary", headers=AUTH).status_code == 200  # the token does work


# --- agents, passwords, CLI ------------------------------------------------------------------------------------


def test_create_agent_validates_its_input(app: FastAPI) -> None:
    with services_of(app).sessions() as session:
        known = services_of(app).departments
        with pytest.raises(ValueError, match="'nirgendwo'"):
            create_agent(session, "weber", "Frau Weber", PASSWORD, ["buergerservice", "nirgendwo"], known=known)
        with pytest.raises(ValueError, match="user name"):
            create_agent(session, "We ber!", "Frau Weber", PASSWORD, ["buergerservice"], known=known)
        with pytest.raises(ValueError, match="12 characters"):
            create_agent(session, "weber", "Frau Weber", "kurz", ["buergerservice"], known=known)
        with pytest.raises(ValueError, match="at least one department"):
            create_agent(session, "weber", "Frau Weber", PASSWORD, [], known=known)
        created = create_agent(session, "Weber", "Frau Weber", PASSWORD, ["standesamt", "standesamt"], known=known)
        assert (created.username, created.departments, created.is_manager) == ("weber", ["standesamt"], False)
        with pytest.raises(ValueError, match="exists already"):
            create_agent(session, "weber", "Frau Weber", PASSWORD, ["standesamt"], known=known)


def test_cli_agent_add_and_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import build_parser

    settings = Settings(home=tmp_path / "cli", api_token=TOKEN)
    monkeypatch.setattr("bot.config.settings.get_settings", lambda: settings)

    def run(*argv: str) -> int:
        args = build_parser().parse_args(list(argv))
        return int(args.func(args))

    monkeypatch.setenv("AUSKUNFT_AGENT_PASSWORD", PASSWORD)
    assert run("agent", "add", "weber", "--name", "Frau Weber", "--department", "buergerservice",
               "--department", "standesamt") == 0
    assert run("agent", "add", "chefin", "--name", "Frau Dr. Chefin", "--manager") == 0
    assert run("agent", "add", "meier", "--name", "Herr Meier", "--department", "nirgendwo") == 1
    monkeypatch.delenv("AUSKUNFT_AGENT_PASSWORD")
    answers = iter(["anderes-passwort-1", "anderes-passwort-2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert run("agent", "add", "meier", "--name", "Herr Meier", "--department", "kfz") == 1  # passwords differ
    assert run("agent", "list") == 0
    out, err = capsys.readouterr()
    assert "agent weber (Frau Weber) created: Bürgerservice, Standesamt" in out
    assert "all departments (manager)" in out and "unknown department 'nirgendwo'" in err
    assert "the two passwords differ" in err and PASSWORD not in out + err and "anderes-passwort" not in out + err
    listing = out.splitlines()[-2:]
    assert listing[0].startswith("chefin") and "manager" in listing[0]
    assert listing[1].startswith("weber") and "buergerservice,standesamt" in listing[1]
