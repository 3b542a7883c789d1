"""Handoff service: departments, office hours, the bot staying silent while a person holds the
conversation, case lookup, e-mail notifications (real SMTP server), retention and schema upgrade."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from pathlib import Path
from typing import Iterator, List

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect

from bot.config.settings import PROJECT_ROOT, Settings
from bot.conversations.erase import TrackerEraser
from bot.db.engine import make_engine
from bot.db.upgrade import current_revision, head_revision, upgrade_to_head
from bot.helpdesk.outbox import enqueue, outbox
from bot.notifications.mailer import Mailer, SmtpConfig
from bot.notifications.replies import notify_pending, pending
from bot.tickets import service
from bot.tickets.departments import Departments, DepartmentsError
from bot.tickets.models import Ticket
from bot.tickets.office_hours import OfficeHours
from bot.tickets.retention import purge
from bot.tickets.schemas import ReplyIn, TicketCreate
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.helpers.servers import free_port
from tests.helpers.ticket_api import AUTH, TOKEN, ticket
from tests.helpers.tracker_store import tracker_db

CONVERSATION = "0123456789abcdef0123456789abcdef"
DEPARTMENTS = Departments.load(PROJECT_ROOT / "departments.yml")
BERLIN = timezone(timedelta(hours=1))


def create(session, case: str = "AK-7KQ2-M9XD", owner: str = "Standesamt", **overrides) -> Ticket:  # type: ignore[no-untyped-def]
    data = ticket(case_number=case, conversation_id=overrides.pop("conversation_id", CONVERSATION), **overrides)
    data["candidates"] = [{"faq_id": "x", "title": "X", "score": 0.3, "owner": owner}]
    return service.create_ticket(session, TicketCreate(**data), DEPARTMENTS)[0]



def test_departments_route_by_owner_scores_with_a_default(tmp_path: Path) -> None:
    assert DEPARTMENTS.route([("Standesamt", 0.5), ("Bürgeramt", 0.3), ("Bürgeramt", 0.3)]) == "buergerservice"
    assert DEPARTMENTS.route([("Kfz-Zulassungsstelle", 0.4)]) == "kfz"
    assert DEPARTMENTS.route([("Unbekanntes Amt", 0.9)]) == DEPARTMENTS.default
    assert DEPARTMENTS.route([]) == "buergerservice"
    bad = tmp_path / "d.yml"
    bad.write_text("default: nirgends\ndepartments:\n  a: {name: A, owners: [X]}\n", encoding="utf-8")
    with pytest.raises(DepartmentsError, match="default 'nirgends'"):
        Departments.load(bad)
    bad.write_text("default: a\ndepartments:\n  a: {name: A, owners: [X]}\n  b: {name: B, owners: [x]}\n",
                   encoding="utf-8")
    with pytest.raises(DepartmentsError, match="listed under both"):
        Departments.load(bad)


def test_every_kb_owner_has_a_department() -> None:
    owners = {line.split(":", 1)[1].strip() for path in (PROJECT_ROOT / "kb").rglob("*.md")
              for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("owner:")}
    assert owners and all(DEPARTMENTS.for_owner(owner) for owner in owners), owners


def test_office_hours() -> None:
    hours = OfficeHours.parse("Mo-Do 08:00-16:00; Fr 08:00-12:00")
    assert hours.is_open(datetime(2026, 11, 24, 9, 0, tzinfo=BERLIN))  # Tuesday morning
    assert not hours.is_open(datetime(2026, 11, 27, 12, 30, tzinfo=BERLIN))  # Friday afternoon
    assert hours.next_opening(datetime(2026, 11, 27, 12, 30, tzinfo=BERLIN)) == datetime(2026, 11, 30, 8, 0,
                                                                                         tzinfo=hours.zone)
    for bad in ("Mo-Fr 8-16", "Xy 08:00-10:00", "Mo 10:00-09:00", ""):
        with pytest.raises(ValueError, match="office hours"):
            OfficeHours.parse(bad)


def test_queue_position_and_workflow_events(session) -> None:  # type: ignore[no-untyped-def]
    first = create(session, "AK-AAAA-AAAA")
    second = create(session, "AK-BBBB-BBBB", conversation_id="other-conversation-0001")
    other_queue = create(session, "AK-CCCC-CCCC", owner="Bürgeramt", conversation_id="third-conversation-001")
    assert (service.queue_position(session, first), service.queue_position(session, second)) == (1, 2)
    assert service.queue_position(session, other_queue) == 1
    service.assign(session, first, "weber")
    assert service.queue_position(session, second) == 1 and first.holds_conversation is True
    service.transfer(session, first, "buergerservice", "weber", "Gehört zum Bürgeramt", DEPARTMENTS)
    assert first.department == "buergerservice" and first.assignee is None
    assert [e.kind for e in first.events] == ["created", "assigned", "transferred"]
    assert first.events[-1].text == "Gehört zum Bürgeramt"


def test_bot_is_silent_while_a_person_holds_the_conversation(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", api_token=TOKEN, rasa_port=free_port())  # no Rasa listens there
    with TestClient(create_app(settings)) as client:
        client.post("/api/tickets", json={**ticket(conversation_id=CONVERSATION), "candidates": []},
                    headers=AUTH).raise_for_status()
        message = {"sender": CONVERSATION, "message": "Ist mein Antrag schon da?", "lang": "de"}
        assert client.post("/api/chat", json=message).status_code == 503  # nobody holds it: goes to the (absent) bot
        with services_of(client.app).sessions() as db:  # type: ignore[arg-type]
            service.assign(db, service.get_ticket(db, "AK-7KQ2-M9XD"), "weber")
        held = client.post("/api/chat", json=message)
        assert held.status_code == 200
        assert "AK-7KQ2-M9XD" in held.json()[0]["text"] and held.json()[1]["custom"]["decision"] == "human"
        stored = client.get("/api/tickets/AK-7KQ2-M9XD", headers=AUTH).json()
        assert stored["transcript"][-1]["text"] == "Ist mein Antrag schon da?"
        assert stored["events"][-1]["kind"] == "citizen_message"
        with services_of(client.app).sessions() as db:  # type: ignore[arg-type]
            service.hand_back(db, service.get_ticket(db, "AK-7KQ2-M9XD"), "weber")
        assert client.post("/api/chat", json=message).status_code == 503  # the bot has it again


def test_case_lookup_shows_replies_escaped_and_refuses_guessing(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(home=tmp_path / "home", api_token=TOKEN))) as client:
        client.post("/api/tickets", json=ticket(), headers=AUTH).raise_for_status()
        client.post("/api/tickets/AK-7KQ2-M9XD/replies", json={"author": "Frau A.", "text": "<b>Ja</b>, ab Montag."},
                    headers=AUTH).raise_for_status()
        found = client.post("/fall", data={"number": "ak-7kq2-m9xd"})
        assert found.status_code == 200 and "&lt;b&gt;Ja&lt;/b&gt;, ab Montag." in found.text
        assert "Meine Mail ist" not in found.text  # the transcript is not shown
        assert client.post("/fall", data={"number": "AK-0000-0000"}).status_code == 404
        assert client.post("/fall", data={"number": "1234"}).status_code == 400
        codes = [client.post("/fall", data={"number": "AK-0000-0000"}).status_code for _ in range(10)]
        assert codes[-1] == 429


class Inbox:
    """Collects what a real SMTP server receives."""

    def __init__(self) -> None:
        self.messages: List[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_reply_notification_by_email_is_sent_once_and_survives_a_down_server(session, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    with_mail = create(session, "AK-MAIL-0001", email="buerger@example.org")
    without = create(session, "AK-MAIL-0002", email=None, conversation_id="no-mail-conversation")
    for t in (with_mail, without):
        service.add_reply(session, t, ReplyIn(author="Frau A.", text="Ihre Urkunde liegt bereit."))
    down = Mailer(SmtpConfig("127.0.0.1", free_port(), timeout=2))
    assert notify_pending(session, down, "https://stadt.example/fall") == 0
    assert len(pending(session)) == 1  # kept for later
    up = Mailer(SmtpConfig("127.0.0.1", port))
    assert notify_pending(session, up, "https://stadt.example/fall", DEPARTMENTS.name) == 1
    assert notify_pending(session, up, "https://stadt.example/fall") == 0  # never twice
    assert len(inbox.messages) == 1
    mail = message_from_bytes(inbox.messages[0])
    assert mail["To"] == "buerger@example.org" and "AK-MAIL-0001" in mail["Subject"]
    body = mail.get_payload(decode=True).decode("utf-8")
    assert "https://stadt.example/fall" in body and "Standesamt" in body
    assert "Urkunde" not in body  # the answer itself stays on the server


def test_retention_deletes_what_is_due_and_nothing_else(session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(timezone.utc)
    old_resolved = create(session, "AK-OLD1-0001")
    service.set_status(session, old_resolved, "resolved")
    old_resolved.closed_at = now - timedelta(days=100)
    old_open = create(session, "AK-OLD2-0002", conversation_id="old-but-open-conversation")
    old_open.created_at = now - timedelta(days=400)
    fresh_resolved = create(session, "AK-NEW1-0003", conversation_id="fresh-resolved-conversation")
    service.set_status(session, fresh_resolved, "resolved")
    session.commit()
    trackers = tracker_db(tmp_path / "trackers.sqlite3", {"alt": ["Hallo"], "neu": ["Hallo"]})
    with sqlite3.connect(trackers) as db:
        db.execute("UPDATE events SET timestamp = ? WHERE sender_id = 'alt'", (time.time() - 100 * 86400,))
        db.execute("UPDATE events SET timestamp = ? WHERE sender_id = 'neu'", (time.time() - 3600,))
    eraser = TrackerEraser(engine=create_engine(f"sqlite:///{trackers}"))

    for queued in (old_resolved, old_open):
        assert enqueue(session, queued, "zammad")  # a delivery receipt names the case number
    report = purge(session, 90, eraser)
    assert (report.tickets, report.conversations) == (1, 1)
    assert [i.key for i in outbox(session, "zammad").waiting()] == ["AK-OLD2-0002"]  # the purged one's item is gone
    assert {t.case_number for t in session.query(Ticket)} == {"AK-OLD2-0002", "AK-NEW1-0003"}
    with sqlite3.connect(trackers) as db:
        assert {row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")} == {"neu"}
    assert purge(session, 90, eraser).tickets == 0


def test_an_old_database_gets_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, case_number VARCHAR(20) NOT NULL, "
                   "conversation_id VARCHAR(128) NOT NULL, status VARCHAR(20) NOT NULL, language VARCHAR(2) NOT NULL, "
                   "reason VARCHAR(40) NOT NULL, question TEXT NOT NULL, candidates JSON NOT NULL, "
                   "transcript JSON NOT NULL, consent BOOLEAN NOT NULL, email VARCHAR(254), "
                   "index_version VARCHAR(40), created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, "
                   "closed_at DATETIME)")
    engine = make_engine(f"sqlite:///{path}")  # adopts the pre-Alembic database, then upgrades it
    columns = {c["name"] for c in inspect(engine).get_columns("tickets")}
    assert {"department", "assignee", "holds_conversation", "first_reply_at"} <= columns
    assert "ix_tickets_department" in {i["name"] for i in inspect(engine).get_indexes("tickets")}
    assert upgrade_to_head(engine) == head_revision()  # idempotent
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()


def test_with_a_webhook_helpdesk_a_created_ticket_is_delivered_signed_once(tmp_path: Path) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from bot.helpdesk import verify_signature

    secret, received = "webhook-secret-0123456789", []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ok = verify_signature(secret, self.headers["X-Auskunft-Timestamp"], body,
                                  self.headers["X-Auskunft-Signature"])
            received.append((ok, self.headers["Idempotency-Key"], json.loads(body)))
            self.send_response(200 if ok else 401)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = Settings(home=tmp_path / "home", api_token=TOKEN, helpdesk="webhook",
                        webhook_url=f"http://127.0.0.1:{server.server_port}/hook", webhook_secret=secret)
    try:
        app = create_app(settings)
        with TestClient(app) as client:
            client.post("/api/tickets", json=ticket(), headers=AUTH).raise_for_status()
            client.post("/api/tickets", json=ticket(), headers=AUTH).raise_for_status()  # a retry: same case
            services_of(app).jobs.run_once()
            services_of(app).jobs.run_once()
    finally:
        server.shutdown()
    assert [(ok, key) for ok, key, _ in received] == [(True, "AK-7KQ2-M9XD")]
    assert "[TELEFON]" in json.dumps(received[0][2], ensure_ascii=False)  # redacted before it leaves


def test_an_incomplete_helpdesk_configuration_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="AUSKUNFT_ZAMMAD_URL"):
        create_app(Settings(home=tmp_path / "home", api_token=TOKEN, helpdesk="zammad"))


PLANTED = ["erika.muster@example.org", "0171 2345678", "DE89 3704 0044 0532 0130 00", "86095742719", "L01X00T47",
           "M-AB 1234", "14.07.1980", "Lindenweg 9, 86150 Augsburg"]


def test_a_stored_transcript_contains_none_of_the_planted_personal_data(tmp_path: Path) -> None:
    lines = [{"role": "citizen", "text": f"Hier: {value}, bitte helfen Sie mir."} for value in PLANTED]
    with TestClient(create_app(Settings(home=tmp_path / "home", api_token=TOKEN))) as client:
        data = ticket(question=f"Mein Ausweis L01X00T47 ist weg, ich wohne {PLANTED[-1]}", transcript=lines)
        client.post("/api/tickets", json=data, headers=AUTH).raise_for_status()
        stored = client.get("/api/tickets/AK-7KQ2-M9XD", headers=AUTH).text
    leaked = [value for value in PLANTED if value in stored]
    assert leaked == [], leaked
    assert "max@example.org" in stored  # the contact address given on purpose stays


def test_the_topic_filter_finds_matches_behind_the_first_page(session, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(service, "TOPIC_PAGE", 4)
    for number in range(9):  # nine tickets on another topic first, then two on the one asked for
        create(session, case=f"AK-AAAA-{number:04d}", owner="Bürgeramt", conversation_id=f"c{number:031d}")
    for number in range(2):
        create(session, case=f"AK-BBBB-{number:04d}", owner="Standesamt", conversation_id=f"d{number:031d}")
    found = service.list_tickets(session, limit=3, topic="Standesamt")
    assert [t.case_number for t in found] == ["AK-BBBB-0000", "AK-BBBB-0001"]
    assert [t.case_number for t in service.list_tickets(session, limit=1, topic="Standesamt")] == ["AK-BBBB-0000"]
    assert len(service.list_tickets(session, limit=3)) == 3
