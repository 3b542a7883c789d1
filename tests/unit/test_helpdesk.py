"""Helpdesk connectors and the delivery outbox: signatures, payloads, settings, backoff and claim leases."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import FrozenInstanceError
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator, List, Optional

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.config.settings import Settings
from bot.db.engine import make_engine, session_factory
from bot.helpdesk import (
    Connector,
    DeliveryError,
    DeliveryRejected,
    DeliveryWorker,
    InboxConnector,
    TicketPayload,
    WebhookConnector,
    ZammadConnector,
    connector_from_settings,
    enqueue,
    sign,
    verify_signature,
)
from bot.helpdesk.models import outbox_items
from bot.helpdesk.outbox import outbox
from bot.helpdesk.zammad import DEFAULT_CUSTOMER
from bot.outbox import DEFAULT_POLICY, Item, RetryPolicy
from bot.tickets.models import Ticket, utcnow
from bot.tickets.schemas import TicketCreate
from bot.tickets.service import create_ticket

SECRET = "webhook-secret-0123456789abcdef"
ZAMMAD_TOKEN = "zammad-token-do-not-leak-42"
CASE = "AK-7KQ2-M9XD"


@pytest.fixture
def factory(tmp_path: Path) -> Iterator["sessionmaker[Session]"]:
    engine = make_engine(f"sqlite:///{tmp_path / 'tickets.sqlite3'}")
    yield session_factory(engine)
    engine.dispose()


def new_ticket(session: Session, case: str = CASE, **overrides: Any) -> Ticket:
    data: dict = {
        "case_number": case, "conversation_id": f"conv-{case}", "language": "de", "reason": "low_confidence",
        "question": "Wie bekomme ich einen Fischereischein? Ruf mich an: 0171 2345678",
        "candidates": [{"faq_id": "fischereischein", "title": "Fischereischein", "score": 0.61,
                        "owner": "Ordnungsamt"}],
        "transcript": [{"role": "citizen", "text": "Meine Mail ist max@example.org"},
                       {"role": "bot", "text": "Darf ich weiterleiten?"}],
        "consent": True, "email": "max@example.org",
    }
    data.update(overrides)
    ticket, _ = create_ticket(session, TicketCreate(**data))
    return ticket


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Scripted:
    """A connector that answers from a script (exceptions are raised), recording what it got."""

    name = "scripted"

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.received: List[TicketPayload] = []

    def deliver(self, ticket: TicketPayload) -> Optional[str]:
        self.received.append(ticket)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


# --- webhook signatures -------------------------------------------------------------------------------------------

BODY = b'{"event":"ticket.created","case_number":"AK-7KQ2-M9XD"}'
TS = 1_700_000_000


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, TS, BODY) == f"sha256={expected}"
    assert verify_signature(SECRET, str(TS), BODY, f"sha256={expected}", now=TS + 10)


@pytest.mark.parametrize("secret, body, signature, now", [
    (SECRET, BODY.replace(b"7KQ2", b"7KQ3"), None, TS),         # tampered body
    ("another-secret-0123456789", BODY, None, TS),               # wrong secret
    (SECRET, BODY, None, TS + 301),                               # stale
    (SECRET, BODY, None, TS - 301),                               # from the future
    (SECRET, BODY, "", TS),                                       # missing
    (SECRET, BODY, "sha256=" + "0" * 64, TS),                     # forged
    (SECRET, BODY, "sha256=ä", TS),                               # not even ASCII
])
def test_signature_rejects(secret: str, body: bytes, signature: Optional[str], now: int) -> None:
    signature = sign(SECRET, TS, BODY) if signature is None else signature
    assert verify_signature(secret, TS, body, signature, now=now) is False


def test_signature_rejects_malformed_timestamp() -> None:
    assert verify_signature(SECRET, "yesterday", BODY, sign(SECRET, TS, BODY), now=TS) is False


# --- payload ------------------------------------------------------------------------------------------------------

def test_payload_from_ticket(factory: "sessionmaker[Session]") -> None:
    with factory() as session:
        payload = TicketPayload.from_ticket(new_ticket(session))
    assert payload.case_number == payload.idempotency_key == CASE
    assert "[TELEFON]" in payload.question and "0171" not in payload.question  # redacted when stored
    assert payload.email == "max@example.org" and payload.consent is True and payload.department is None
    assert [(line.role, line.text) for line in payload.transcript] == [
        ("citizen", "Meine Mail ist [E-MAIL]"), ("bot", "Darf ich weiterleiten?")]
    assert payload.candidates[0].faq_id == "fischereischein" and payload.candidates[0].owner == "Ordnungsamt"
    assert datetime.fromisoformat(payload.created_at).utcoffset() == timedelta(0)
    with pytest.raises(FrozenInstanceError):
        payload.case_number = "AK-XXXX-XXXX"  # type: ignore[misc]
    data = json.loads(json.dumps(payload.to_dict()))
    assert data["transcript"][0] == {"role": "citizen", "text": "Meine Mail ist [E-MAIL]", "at": None}
    assert payload.title().startswith(f"[{CASE}] Wie bekomme ich") and len(payload.title()) <= 100
    assert "Bürger/in: Meine Mail ist [E-MAIL]" in payload.as_text()


def test_long_question_is_cut_in_the_title(factory: "sessionmaker[Session]") -> None:
    with factory() as session:
        payload = TicketPayload.from_ticket(new_ticket(session, question="Wohngeld " * 100))
    assert len(payload.title()) == 100 and payload.title().endswith("…")


# --- settings -----------------------------------------------------------------------------------------------------

def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize("values, message", [
    ({"helpdesk": "zammad"}, "AUSKUNFT_ZAMMAD_URL is required when AUSKUNFT_HELPDESK=zammad"),
    ({"helpdesk": "zammad", "zammad_url": "https://zammad.example"},
     "AUSKUNFT_ZAMMAD_TOKEN is required when AUSKUNFT_HELPDESK=zammad"),
    ({"helpdesk": "zammad", "zammad_url": "https://zammad.example", "zammad_token": "t", "zammad_group": " "},
     "AUSKUNFT_ZAMMAD_GROUP is required when AUSKUNFT_HELPDESK=zammad"),
    ({"helpdesk": "zammad", "zammad_url": "zammad.example", "zammad_token": "t"}, "AUSKUNFT_ZAMMAD_URL must be"),
    ({"helpdesk": "webhook"}, "AUSKUNFT_WEBHOOK_URL is required when AUSKUNFT_HELPDESK=webhook"),
    ({"helpdesk": "webhook", "webhook_url": "https://hooks.example/x"},
     "AUSKUNFT_WEBHOOK_SECRET is required when AUSKUNFT_HELPDESK=webhook"),
    ({"helpdesk": "webhook", "webhook_url": "https://hooks.example/x", "webhook_secret": "short"},
     "AUSKUNFT_WEBHOOK_SECRET must be at least 16"),
])
def test_factory_names_the_missing_setting(values: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        connector_from_settings(settings(**values))
    assert message in str(err.value)


def test_factory_builds_each_connector() -> None:
    assert isinstance(connector_from_settings(settings()), InboxConnector)
    zammad = connector_from_settings(settings(helpdesk="zammad", zammad_url="https://zammad.example/",
                                              zammad_token=ZAMMAD_TOKEN, zammad_group="Bürgerservice"))
    assert isinstance(zammad, ZammadConnector) and zammad.group == "Bürgerservice"
    assert zammad.base_url == "https://zammad.example" and ZAMMAD_TOKEN not in repr(zammad)
    webhook = connector_from_settings(settings(helpdesk="webhook", webhook_url="https://hooks.example/x",
                                               webhook_secret=SECRET))
    assert isinstance(webhook, WebhookConnector) and SECRET not in repr(webhook)
    assert all(isinstance(c, Connector) for c in (zammad, webhook, InboxConnector()))


# --- connectors over httpx's in-memory transport ------------------------------------------------------------------

def payload(factory: "sessionmaker[Session]", **overrides: Any) -> TicketPayload:
    with factory() as session:
        return TicketPayload.from_ticket(new_ticket(session, **overrides))


def test_webhook_request_is_signed_and_keyed(factory: "sessionmaker[Session]") -> None:
    seen: List[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"id": "HD-1"})

    connector = WebhookConnector("https://hooks.example/in", SECRET, client=httpx.Client(transport=httpx.MockTransport(answer)))
    assert connector.deliver(payload(factory)) == "HD-1"
    request = seen[0]
    assert request.headers["Idempotency-Key"] == CASE
    assert verify_signature(SECRET, request.headers["X-Auskunft-Timestamp"], request.content,
                            request.headers["X-Auskunft-Signature"])
    document = json.loads(request.content)
    assert document["event"] == "ticket.created" and document["case_number"] == CASE
    assert document["ticket"]["email"] == "max@example.org"


@pytest.mark.parametrize("response, error, status, retry_after", [
    (httpx.Response(503), DeliveryError, 503, None),
    (httpx.Response(429, headers={"Retry-After": "120"}), DeliveryError, 429, 120.0),
    (httpx.Response(422, text="missing field question"), DeliveryRejected, 422, None),
    (httpx.Response(401, json={"error": "bad signature"}), DeliveryRejected, 401, None),
    (httpx.Response(301, headers={"Location": "https://elsewhere"}), DeliveryRejected, 301, None),
])
def test_webhook_status_mapping(factory: "sessionmaker[Session]", response: httpx.Response, error: type,
                                status: int, retry_after: Optional[float]) -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda request: response))
    with pytest.raises(error) as raised:
        WebhookConnector("https://hooks.example/in", SECRET, client=client).deliver(payload(factory))
    assert getattr(raised.value, "status", None) == status and getattr(raised.value, "retry_after", None) == retry_after


def test_zammad_body_and_token_never_in_errors(factory: "sessionmaker[Session]") -> None:
    connector = ZammadConnector("https://zammad.example", ZAMMAD_TOKEN, "Bürgerservice")
    body = connector.ticket_body(payload(factory))
    assert body["customer_id"] == "guess:max@example.org" and body["group"] == "Bürgerservice"
    assert body["title"].startswith(f"[{CASE}]") and body["article"]["sender"] == "Customer"
    assert {"subject", "body", "type", "internal", "content_type"} <= set(body["article"])
    anonymous = connector.ticket_body(payload(factory, case="AK-2222-3333", email=None))
    assert anonymous["customer_id"] == DEFAULT_CUSTOMER

    def refuse(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Token token={ZAMMAD_TOKEN}"
        return httpx.Response(401, json={"error": "Invalid token!"})

    denied = ZammadConnector("https://zammad.example", ZAMMAD_TOKEN, "G",
                             client=httpx.Client(transport=httpx.MockTransport(refuse)))
    with pytest.raises(DeliveryRejected) as err:
        denied.deliver(payload(factory, case="AK-4444-5555"))
    assert err.value.status == 401 and ZAMMAD_TOKEN not in str(err.value)


def test_zammad_reads_both_search_answer_shapes_and_waits_after_ambiguous_timeouts(
        factory: "sessionmaker[Session]") -> None:
    posts: List[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            found = {"id": 7, "number": "31007", "title": f"[{CASE}] Wie"}
            return httpx.Response(200, json={"tickets": [7], "tickets_count": 1, "assets": {"Ticket": {"7": found}}})
        posts.append(request)
        raise httpx.ReadTimeout("slow", request=request)

    connector = ZammadConnector("https://z.example", "t", "G", client=httpx.Client(transport=httpx.MockTransport(answer)))
    assert connector.deliver(payload(factory)) == "31007" and posts == []  # found: no second ticket
    with pytest.raises(DeliveryError) as err:
        connector.deliver(payload(factory, case="AK-6666-7777"))
    assert err.value.retry_after == connector.ambiguous_retry_s and len(posts) == 1


# --- outbox -------------------------------------------------------------------------------------------------------

def items(factory: "sessionmaker[Session]", connector: str = "scripted") -> List[Item]:
    """Every delivery to ``connector``, whatever its status (rows of the shared outbox)."""
    with factory() as session:
        query = select(outbox_items).where(outbox_items.c.kind == f"helpdesk:{connector}").order_by(outbox_items.c.id)
        return [Item.from_row(row) for row in session.execute(query)]


def test_enqueue_is_idempotent_and_unique(factory: "sessionmaker[Session]") -> None:
    with factory() as session:
        ticket = new_ticket(session)
        first, again = enqueue(session, ticket, "zammad"), enqueue(session, ticket, "zammad")
        other = enqueue(session, ticket, "webhook")
        assert (first, again, other) == (True, False, True)
        assert [i.key for i in outbox(session, "zammad").lease(now=utcnow() + timedelta(seconds=1))] == [CASE]
        assert [i.payload for i in outbox(session, "webhook").waiting()] == [{"case_number": CASE}]  # no personal data
        with pytest.raises(IntegrityError):  # the database itself refuses a second row
            session.execute(outbox_items.insert().values(kind="helpdesk:zammad", key=CASE, payload={}, attempts=0,
                                                         next_attempt_at=utcnow(), dead=False, created_at=utcnow()))


def test_backoff_schedule() -> None:
    exact = RetryPolicy(jitter=0)
    assert [exact.delay(n) for n in range(1, 11)] == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]
    assert exact.delay(10_000) == 900 and RetryPolicy(1, 60).delay(3) == 4
    assert DeliveryWorker(None, InboxConnector()).policy is DEFAULT_POLICY  # type: ignore[arg-type]  # the shared one


def test_worker_backs_off_then_gives_up(factory: "sessionmaker[Session]") -> None:
    clock, connector = Clock(), Scripted(DeliveryError("down", status=503))
    worker = DeliveryWorker(factory, connector, clock=clock, policy=RetryPolicy(max_attempts=4, jitter=0))
    with factory() as session:
        enqueue(session, new_ticket(session), connector.name, now=clock())
    start = clock()
    for expected_delay in (5, 10, 20):
        assert worker.run_once() == (0, 1, 0)
        [row] = items(factory)
        assert row.next_attempt_at == clock() + timedelta(seconds=expected_delay)
        clock.advance(expected_delay - 1)
        assert worker.run_once() == (0, 0, 0)  # not due yet
        clock.advance(1)
    assert worker.run_once() == (0, 0, 1)
    [row] = items(factory)
    assert (row.status, row.attempts, row.last_error) == ("dead", 4, "DeliveryError: down")
    clock.now = start + timedelta(days=1)
    assert worker.run_once() == (0, 0, 0) and len(connector.received) == 4


def test_retry_after_is_honoured_but_capped(factory: "sessionmaker[Session]") -> None:
    clock = Clock()
    worker = DeliveryWorker(factory, Scripted(DeliveryError("slow down", retry_after=60)), clock=clock)
    capped = DeliveryWorker(factory, Scripted(DeliveryError("later", retry_after=86400)), clock=clock)
    capped.connector.name = "capped"  # type: ignore[misc]
    with factory() as session:
        ticket = new_ticket(session)
        enqueue(session, ticket, "scripted", now=clock())
        enqueue(session, ticket, "capped", now=clock())
    assert worker.run_once() == (0, 1, 0) and capped.run_once() == (0, 1, 0)
    rows = {name: [i.next_attempt_at - clock() for i in items(factory, name) if i.next_attempt_at]
            for name in ("scripted", "capped")}
    assert rows == {"scripted": [timedelta(seconds=60)], "capped": [timedelta(seconds=900)]}


def test_claim_lease(factory: "sessionmaker[Session]") -> None:
    now, lease = utcnow(), timedelta(seconds=60)
    with factory() as session:
        enqueue(session, new_ticket(session), "webhook", now=now)
        worker_a, worker_b = outbox(session, "webhook", lease=lease), outbox(session, "webhook", lease=lease)
        [first] = worker_a.lease(now=now)
        assert first.key == CASE and first.leased_until == now + lease
        assert worker_b.lease(now=now) == []
        assert worker_b.lease(now=now + timedelta(seconds=59)) == []
        assert outbox(session, "zammad").lease(now=now + timedelta(hours=1)) == []  # other connector
        [taken] = worker_b.lease(now=now + timedelta(seconds=61))  # lease ran out
        assert taken.id == first.id and worker_a.done(first) is False and worker_b.done(taken) is True


def test_worker_that_lost_its_lease_records_nothing(factory: "sessionmaker[Session]") -> None:
    clock = Clock()

    class Slow(Scripted):
        def deliver(self, ticket: TicketPayload) -> Optional[str]:
            clock.advance(120)  # longer than the lease: another worker takes the row meanwhile
            with factory() as other:
                assert outbox(other, self.name, lease=timedelta(seconds=60)).lease(now=clock()) != []  # the thief
            return super().deliver(ticket)

    worker = DeliveryWorker(factory, Slow("REF-1"), clock=clock, lease=timedelta(seconds=60))
    with factory() as session:
        enqueue(session, new_ticket(session), "scripted", now=clock())
    worker.run_once(limit=1)
    [row] = items(factory)
    assert (row.status, row.attempts, row.ref, row.leased_until) == ("pending", 0, None,
                                                                     clock() + timedelta(seconds=60))  # the thief's
    with factory() as session:
        ticket = session.execute(select(Ticket)).scalar_one()
        assert [e.kind for e in ticket.events] == ["created"]


def test_delivered_event_sweep_and_log_without_personal_data(factory: "sessionmaker[Session]",
                                                             caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    with factory() as session:
        new_ticket(session)  # never enqueued (a crash right after create_ticket): the sweep finds it
    ok = DeliveryWorker(factory, Scripted("REF-9"), clock=clock)
    assert ok.run_once() == (1, 0, 0)
    with factory() as session:
        ticket = session.execute(select(Ticket)).scalar_one()
        assert [(e.actor, e.kind, e.data) for e in ticket.events][-1] == (
            "system", "delivered", {"connector": "scripted", "ref": "REF-9"})
        new_ticket(session, case="AK-2222-3333", conversation_id="conv-2")
    rejected = DeliveryWorker(factory, Scripted(DeliveryRejected("bad e-mail max@example.org", status=422)),
                              clock=clock)
    with caplog.at_level(logging.WARNING, logger="bot.helpdesk"):
        assert rejected.run_once() == (0, 0, 1)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "AK-2222-3333" in logged and "DeliveryRejected, HTTP 422" in logged
    assert "max@example.org" not in logged and "Fischereischein" not in logged
    failed = {i.key: i for i in items(factory)}["AK-2222-3333"]
    assert failed.status == "dead" and failed.last_error == "DeliveryRejected: bad e-mail [E-MAIL]"
    delivered = {i.key: i for i in items(factory)}[CASE]
    assert (delivered.status, delivered.ref, delivered.payload) == ("delivered", "REF-9", {})
    assert ok.run_once() == (0, 0, 0)  # the sweep sees the receipt: nothing is queued or sent again


def test_inbox_delivery_is_a_no_op() -> None:
    assert InboxConnector().deliver(None) is None  # type: ignore[arg-type]
