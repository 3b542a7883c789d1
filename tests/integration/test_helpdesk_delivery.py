"""Helpdesk delivery end to end: real HTTP servers on 127.0.0.1, a real database, no mocks of httpx.

Two receivers run as stdlib HTTP servers in threads: an imitation of Zammad that checks every request against
Zammad's documented REST API (token header, ticket fields, ticket search), and a webhook receiver that verifies
signatures with ``verify_signature`` and dedupes on ``Idempotency-Key`` while counting every request. The helpdesk
is down, comes up, is slow, refuses; each ticket must arrive exactly once and nothing may be lost.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.engine import make_engine, session_factory
from bot.helpdesk import DeliveryWorker, WebhookConnector, ZammadConnector, enqueue, verify_signature
from bot.helpdesk.models import outbox_items
from bot.helpdesk.zammad import DEFAULT_CUSTOMER
from bot.outbox import Item
from bot.tickets.client import new_case_number
from bot.tickets.models import Ticket, utcnow
from bot.tickets.schemas import TicketCreate
from bot.tickets.service import create_ticket
from tests.helpers.postgres import DATABASES, drop_postgres, postgres_url
from tests.helpers.servers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ZAMMAD_TOKEN = "zmd-token-0123456789-secret"
GROUP = "Bürgerservice"
SECRET = "hook-secret-0123456789abcdef"
Answer = Tuple[int, Any, float]  # status, JSON, seconds to sleep before answering (after storing)


# --- servers ------------------------------------------------------------------------------------------------------

class Receiver:
    """A real HTTP server in a thread; ``handle`` decides the answers. Not started until :meth:`start`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.down_status: Optional[int] = None  # e.g. 503: up, but failing
        self.slow: List[float] = []  # delays for the next store-then-answer requests
        self.requests: List[Any] = []  # every request, counted before anything is checked
        self._server: Optional[ThreadingHTTPServer] = None

    def handle(self, method: str, path: str, query: Dict[str, List[str]], headers: Any, body: bytes) -> Answer:
        raise NotImplementedError

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                url = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, data, delay = receiver.handle(self.command, url.path, parse_qs(url.query), self.headers, body)
                time.sleep(delay)
                raw = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _delay(self) -> float:
        with self.lock:
            return self.slow.pop(0) if self.slow else 0.0


ARTICLE_TYPES = {"email", "phone", "web", "note", "sms", "chat", "fax"}
TICKET_FIELDS = {"title", "group", "group_id", "customer", "customer_id", "article", "note", "state", "state_id",
                 "priority", "priority_id", "owner", "owner_id", "tags", "mentions"}


class FakeZammad(Receiver):
    """Zammad's documented ticket API: token auth, ``POST /api/v1/tickets``, ``GET /api/v1/tickets/search``."""

    def __init__(self, groups: Tuple[str, ...] = (GROUP, "Users")) -> None:
        super().__init__()
        self.groups = groups
        self.tickets: Dict[int, Dict[str, Any]] = {}

    def handle(self, method: str, path: str, query: Dict[str, List[str]], headers: Any, body: bytes) -> Answer:
        with self.lock:
            self.requests.append((method, path))
        if self.down_status:
            return self.down_status, {"error": "Service Unavailable"}, 0
        if headers.get("Authorization") != f"Token token={ZAMMAD_TOKEN}":
            return 401, {"error": "Invalid token!"}, 0
        if method == "GET" and path == "/api/v1/tickets/search":
            return self.search(query)
        if method == "POST" and path == "/api/v1/tickets":
            return self.create(headers, body)
        return 404, {"error": f"No route matches [{method}] {path}"}, 0

    @staticmethod
    def problems(data: Any) -> List[str]:
        if not isinstance(data, dict):
            return ["payload is not a JSON object"]
        found = [f"unknown attribute {key!r}" for key in data if key not in TICKET_FIELDS]
        if not isinstance(data.get("title"), str) or not data["title"].strip() or len(data["title"]) > 250:
            found.append("title is missing or too long")
        customer = data.get("customer_id")
        if not isinstance(customer, int) and not (isinstance(customer, str)
                                                  and re.fullmatch(r"guess:[^@\s]+@[^@\s]+", customer)):
            found.append(f"Invalid email '{customer}' of customer")
        article = data.get("article")
        if not isinstance(article, dict):
            return found + ["article is missing"]
        if not isinstance(article.get("subject"), str) or not str(article.get("body") or "").strip():
            found.append("article subject/body missing")
        if article.get("type") not in ARTICLE_TYPES:
            found.append(f"article type {article.get('type')!r} unknown")
        if not isinstance(article.get("internal"), bool):
            found.append("article internal must be true or false")
        if article.get("sender", "Customer") not in ("Agent", "Customer", "System"):
            found.append("article sender unknown")
        if article.get("content_type", "text/plain") not in ("text/plain", "text/html"):
            found.append("article content_type unknown")
        return found

    def create(self, headers: Any, body: bytes) -> Answer:
        if not str(headers.get("Content-Type", "")).startswith("application/json"):
            return 422, {"error": "Content-Type must be application/json"}, 0
        try:
            data = json.loads(body)
        except ValueError:
            return 422, {"error": "invalid JSON"}, 0
        problems = self.problems(data)
        if problems:
            return 422, {"error": "; ".join(problems)}, 0
        if data.get("group") not in self.groups:
            return 422, {"error": f"No lookup value found for 'group': {data.get('group')!r}"}, 0
        with self.lock:
            ticket_id = len(self.tickets) + 1
            ticket = {"id": ticket_id, "number": str(31000 + ticket_id), "title": data["title"],
                      "group": data["group"], "group_id": self.groups.index(data["group"]) + 1,
                      "customer_id": data["customer_id"], "note": data.get("note"), "article": data["article"],
                      "state_id": 1, "priority_id": 2, "created_at": datetime.now(timezone.utc).isoformat()}
            self.tickets[ticket_id] = ticket
        return 201, {k: v for k, v in ticket.items() if k not in ("article", "group")}, self._delay()

    def search(self, query: Dict[str, List[str]]) -> Answer:
        term = (query.get("query") or [""])[0].lower()
        limit = int((query.get("limit") or ["10"])[0])
        with self.lock:
            hits = [t for t in self.tickets.values()
                    if term and term in f"{t['title']} {t['number']} {t['article']['body']}".lower()][:limit]
        public = [{k: v for k, v in t.items() if k != "article"} for t in hits]
        if (query.get("expand") or [""])[0] == "true":
            return 200, public, 0
        return 200, {"tickets": [t["id"] for t in public], "tickets_count": len(public),
                     "assets": {"Ticket": {str(t["id"]): t for t in public}}}, 0

    @property
    def posts(self) -> int:
        return sum(1 for method, _ in self.requests if method == "POST")

    def case_of(self, ticket: Dict[str, Any]) -> str:
        match = re.match(r"^\[(AK-[0-9A-Z]{4}-[0-9A-Z]{4})\] ", ticket["title"])
        assert match, ticket["title"]
        return match.group(1)


class WebhookReceiver(Receiver):
    """Verifies signatures, stores each Idempotency-Key once, counts every request."""

    def __init__(self, per_request_s: float = 0.0) -> None:
        super().__init__()
        self.per_request_s = per_request_s
        self.reject_status: Optional[int] = None
        self.stored: Dict[str, Dict[str, Any]] = {}

    def handle(self, method: str, path: str, query: Dict[str, List[str]], headers: Any, body: bytes) -> Answer:
        key = headers.get("Idempotency-Key")
        with self.lock:
            self.requests.append(key)
        time.sleep(self.per_request_s)
        if self.down_status:
            return self.down_status, {"error": "maintenance"}, 0
        if method != "POST" or path != "/hooks/auskunft":
            return 404, {"error": "not found"}, 0
        if not verify_signature(SECRET, headers.get("X-Auskunft-Timestamp", ""), body,
                                headers.get("X-Auskunft-Signature", "")):
            return 401, {"error": "bad signature"}, 0
        data = json.loads(body)
        if data.get("event") != "ticket.created" or data.get("case_number") != key or not key:
            return 400, {"error": "Idempotency-Key must be the case number"}, 0
        if self.reject_status:
            return self.reject_status, {"error": "ticket.department is required"}, 0
        with self.lock:
            new = key not in self.stored
            if new:
                self.stored[key] = data
            ref = f"HD-{list(self.stored).index(key) + 1}"
        return (201 if new else 200), {"id": ref}, self._delay()


# --- database, clock, tickets -------------------------------------------------------------------------------------

@pytest.fixture(params=DATABASES)
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator["sessionmaker[Session]"]:
    url = f"sqlite:///{tmp_path / 'tickets.sqlite3'}" if request.param == "sqlite" else postgres_url()
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()
    if request.param == "postgresql":
        drop_postgres(url)


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_tickets(sessions: "sessionmaker[Session]", count: int, connector: str, now: datetime) -> List[str]:
    """Tickets made by the ticket service, enqueued for ``connector``; every other one without an e-mail."""
    cases = []
    with sessions() as session:
        for n in range(count):
            case = new_case_number()
            fields: Dict[str, Any] = {
                "case_number": case, "conversation_id": f"conv-{case}", "language": "de", "reason": "low_confidence",
                "question": f"Frage {n}: Wann hat das Bürgerbüro geöffnet?", "consent": True,
                "email": f"person{n}@example.org" if n % 2 == 0 else None,
                "candidates": [{"faq_id": "oeffnungszeiten", "title": "Öffnungszeiten", "score": 0.5}],
                "transcript": [{"role": "citizen", "text": "Wann habt ihr offen?"}]}
            data = TicketCreate(**fields)
            ticket, created = create_ticket(session, data)
            assert created
            enqueue(session, ticket, connector, now=now)
            cases.append(case)
    return cases


def deliveries(sessions: "sessionmaker[Session]") -> Dict[str, Item]:
    """Every helpdesk delivery in the shared outbox, by case number, whatever its status."""
    with sessions() as session:
        rows = session.execute(select(outbox_items).where(outbox_items.c.kind.startswith("helpdesk:"))).all()
        return {row.key: Item.from_row(row) for row in rows}


def events(sessions: "sessionmaker[Session]", case: str) -> List[Tuple[str, Any]]:
    with sessions() as session:
        ticket = session.execute(select(Ticket).where(Ticket.case_number == case)).scalar_one()
        return [(e.kind, e.data) for e in ticket.events]


@pytest.fixture
def zammad() -> Iterator[FakeZammad]:
    server = FakeZammad()
    yield server
    server.stop()


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.stop()


# --- scenarios ----------------------------------------------------------------------------------------------------

def test_zammad_down_then_up_delivers_each_ticket_once(sessions: "sessionmaker[Session]", zammad: FakeZammad) -> None:
    clock = Clock()
    cases = make_tickets(sessions, 5, "zammad", clock())
    worker = DeliveryWorker(sessions, ZammadConnector(zammad.url, ZAMMAD_TOKEN, GROUP, timeout=2), clock=clock)

    assert worker.run_once() == (0, 5, 0)  # Zammad is down (nothing listens): nothing lost
    rows = deliveries(sessions)
    assert sorted(rows) == sorted(cases)
    assert all(r.status == "pending" and r.attempts == 1 and "ConnectError" in r.last_error for r in rows.values())
    assert worker.run_once() == (0, 0, 0)  # backing off

    zammad.start()
    assert worker.run_once() == (0, 0, 0)  # still backing off: up does not mean due
    clock.advance(6)
    assert worker.run_once() == (5, 0, 0)
    assert sorted(zammad.case_of(t) for t in zammad.tickets.values()) == sorted(cases)
    assert zammad.posts == 5
    for n, case in enumerate(cases):
        stored = next(t for t in zammad.tickets.values() if zammad.case_of(t) == case)
        assert stored["group"] == GROUP and stored["article"]["type"] == "web"
        assert stored["customer_id"] == (f"guess:person{n}@example.org" if n % 2 == 0 else DEFAULT_CUSTOMER)
        assert case in stored["article"]["body"] and "Wann habt ihr offen?" in stored["article"]["body"]
        row = deliveries(sessions)[case]
        assert (row.status, row.attempts, row.ref, row.leased_until) == ("delivered", 2, stored["number"],
                                                                                   None)
        assert events(sessions, case)[-1] == ("delivered", {"connector": "zammad", "ref": stored["number"]})

    clock.advance(3600)
    assert worker.run_once() == (0, 0, 0)
    assert len(zammad.tickets) == 5 and zammad.posts == 5


def test_webhook_503_then_up_delivers_each_ticket_once(sessions: "sessionmaker[Session]",
                                                      hooks: WebhookReceiver) -> None:
    clock = Clock()
    cases = make_tickets(sessions, 5, "webhook", clock())
    worker = DeliveryWorker(sessions, WebhookConnector(f"{hooks.url}/hooks/auskunft", SECRET, timeout=2), clock=clock)
    hooks.down_status = 503
    hooks.start()

    assert worker.run_once() == (0, 5, 0)
    assert len(hooks.requests) == 5 and hooks.stored == {}
    assert all(r.status == "pending" and "HTTP 503" in r.last_error for r in deliveries(sessions).values())

    hooks.down_status = None
    clock.advance(6)
    assert worker.run_once() == (5, 0, 0)
    assert sorted(hooks.stored) == sorted(cases) and len(hooks.requests) == 10
    first = hooks.stored[cases[0]]["ticket"]
    assert first["email"] == "person0@example.org" and first["transcript"][0]["text"] == "Wann habt ihr offen?"
    refs = {case: row.ref for case, row in deliveries(sessions).items()}
    assert sorted(refs.values()) == [f"HD-{n}" for n in range(1, 6)]

    clock.advance(3600)
    assert worker.run_once() == (0, 0, 0) and len(hooks.requests) == 10


def test_zammad_timeout_after_it_stored_the_ticket_does_not_double_it(sessions: "sessionmaker[Session]",
                                                                      zammad: FakeZammad) -> None:
    clock = Clock()
    [case] = make_tickets(sessions, 1, "zammad", clock())
    zammad.slow = [1.5]  # stores the ticket, then answers after the client gave up
    zammad.start()
    worker = DeliveryWorker(sessions, ZammadConnector(zammad.url, ZAMMAD_TOKEN, GROUP, timeout=0.5), clock=clock)

    assert worker.run_once() == (0, 1, 0)
    row = deliveries(sessions)[case]
    assert "ReadTimeout" in row.last_error and len(zammad.tickets) == 1
    assert row.next_attempt_at.replace(tzinfo=timezone.utc) - clock() >= timedelta(seconds=30)  # index catch-up

    clock.advance(31)
    assert worker.run_once() == (1, 0, 0)
    assert len(zammad.tickets) == 1 and zammad.posts == 1  # the retry searched, found it, created nothing
    assert zammad.requests.count(("GET", "/api/v1/tickets/search")) == 2
    assert deliveries(sessions)[case].ref == zammad.tickets[1]["number"]


def test_webhook_timeout_after_it_stored_the_ticket_is_deduped(sessions: "sessionmaker[Session]",
                                                              hooks: WebhookReceiver) -> None:
    clock = Clock()
    [case] = make_tickets(sessions, 1, "webhook", clock())
    hooks.slow = [1.5]
    hooks.start()
    worker = DeliveryWorker(sessions, WebhookConnector(f"{hooks.url}/hooks/auskunft", SECRET, timeout=0.5),
                            clock=clock)

    assert worker.run_once() == (0, 1, 0)
    clock.advance(6)
    assert worker.run_once() == (1, 0, 0)
    assert hooks.requests == [case, case] and list(hooks.stored) == [case]  # sent twice, stored once
    assert deliveries(sessions)[case].ref == "HD-1"


@pytest.mark.parametrize("kind", ["zammad-unknown-group", "zammad-bad-token", "webhook-422"])
def test_rejection_fails_once_and_is_kept(sessions: "sessionmaker[Session]", zammad: FakeZammad,
                                          hooks: WebhookReceiver, kind: str,
                                          caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    connector: Any
    if kind == "webhook-422":
        hooks.reject_status = 422
        server: Receiver = hooks.start()
        connector, expected_status = WebhookConnector(f"{hooks.url}/hooks/auskunft", SECRET, timeout=2), 422
    else:
        server = zammad.start()
        token = ZAMMAD_TOKEN if kind == "zammad-unknown-group" else "wrong-token"
        group = "Gibt es nicht" if kind == "zammad-unknown-group" else GROUP
        connector = ZammadConnector(zammad.url, token, group, timeout=2)
        expected_status = 422 if kind == "zammad-unknown-group" else 401
    [case] = make_tickets(sessions, 1, connector.name, clock())
    worker = DeliveryWorker(sessions, connector, clock=clock)

    assert worker.run_once() == (0, 0, 1)
    row = deliveries(sessions)[case]
    assert (row.status, row.attempts) == ("dead", 1) and f"HTTP {expected_status}" in row.last_error
    assert ZAMMAD_TOKEN not in row.last_error and "wrong-token" not in row.last_error
    seen = len(server.requests)
    clock.advance(86400)
    assert worker.run_once() == (0, 0, 0) and len(server.requests) == seen
    logged = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("bot.helpdesk"))
    assert case in logged and f"HTTP {expected_status}" in logged
    assert "example.org" not in logged and "Bürgerbüro" not in logged and "token" not in logged.lower()


def test_two_workers_deliver_each_ticket_once(sessions: "sessionmaker[Session]") -> None:
    hooks = WebhookReceiver(per_request_s=0.02).start()
    try:
        cases = make_tickets(sessions, 12, "webhook", utcnow())
        workers = [DeliveryWorker(sessions, WebhookConnector(f"{hooks.url}/hooks/auskunft", SECRET, timeout=5))
                   for _ in range(2)]
        barrier, delivered, errors = threading.Barrier(2), [0, 0], []

        def work(index: int) -> None:
            try:
                barrier.wait()
                while True:
                    counts = workers[index].run_once(limit=1)
                    delivered[index] += counts[0]
                    if counts == (0, 0, 0):
                        return
            except Exception as err:  # surfaced below
                errors.append(err)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert sum(delivered) == 12
        assert sorted(hooks.requests) == sorted(cases)  # every ticket sent exactly once, no duplicate request
        assert all(row.status == "delivered" for row in deliveries(sessions).values())
    finally:
        hooks.stop()
