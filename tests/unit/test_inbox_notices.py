"""Whether the citizen's e-mail about each reply went out, waits or was refused for good: the state kept with the
ticket (a real SMTP server, aiosmtpd, that refuses one address) and how the ticket page says it, in words."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from bot.config.settings import Settings
from bot.notifications.mailer import Mailer, SmtpConfig
from bot.notifications.replies import notify_pending, pending, reply_states
from bot.staff import passwords
from bot.tickets import service
from bot.tickets.models import TicketEvent
from bot.tickets.schemas import ReplyIn
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.helpers.inbox import add_ticket, staff
from tests.helpers.servers import free_port
from tests.helpers.ticket_api import TOKEN

REFUSED = "gibt-es-nicht@example.org"


class Server:
    """Accepts mail for every address but :data:`REFUSED` (550, a permanent refusal)."""

    def __init__(self) -> None:
        self.delivered: List[Tuple[str, ...]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: Any) -> str:
        if address == REFUSED:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.delivered.append(tuple(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[Tuple[Server, int]]:
    handler, port = Server(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.setattr(passwords, "N", 2**10)  # cheaper scrypt for speed
    return create_app(Settings(home=tmp_path / "home", api_token=TOKEN, smtp_host="127.0.0.1",
                               smtp_port=free_port(), background_jobs=False,
                               database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}"))


def reply(app: FastAPI, case: str, text: str) -> None:
    with services_of(app).sessions() as db:
        ticket = service.get_ticket(db, case)
        assert ticket is not None
        service.add_reply(db, ticket, ReplyIn(author="Frau Weber, Bürgerservice", text=text), actor="weber")


def test_a_refused_address_is_marked_failed_for_good_and_does_not_hold_up_the_others(
        app: FastAPI, smtp: Tuple[Server, int]) -> None:
    server, port = smtp
    add_ticket(app, "AK-NOTE-0001", email=REFUSED)
    add_ticket(app, "AK-NOTE-0002", email="max@example.org", conversation_id="conv-2")
    reply(app, "AK-NOTE-0001", "Erste Antwort.")
    reply(app, "AK-NOTE-0002", "Zweite Antwort.")
    mailer = Mailer(SmtpConfig("127.0.0.1", port))
    with services_of(app).sessions() as db:
        assert notify_pending(db, mailer, "https://stadt.example/fall") == 1  # the refused one does not block
        assert pending(db) == []  # neither is tried again
        assert notify_pending(db, mailer, "https://stadt.example/fall") == 0
        failed, sent = (service.get_ticket(db, c) for c in ("AK-NOTE-0001", "AK-NOTE-0002"))
        assert failed is not None and sent is not None
        assert [(e.kind, e.data["code"]) for e in failed.events if e.kind.startswith("notif")] == \
            [("notify_failed", 550)]
        assert [s.state for s in reply_states(failed, True).values()] == ["failed"]
        assert [s.state for s in reply_states(sent, True).values()] == ["sent"]
    assert server.delivered == [("max@example.org",)]


def test_a_down_server_leaves_the_notification_waiting(app: FastAPI) -> None:
    add_ticket(app, "AK-NOTE-0003")
    reply(app, "AK-NOTE-0003", "Antwort.")
    with services_of(app).sessions() as db:
        assert notify_pending(db, Mailer(SmtpConfig("127.0.0.1", free_port(), timeout=2)), "https://x/fall") == 0
        ticket = service.get_ticket(db, "AK-NOTE-0003")
        assert ticket is not None
        assert [s.state for s in reply_states(ticket, True).values()] == ["waiting"]
        assert [s.state for s in reply_states(ticket, False).values()] == ["off"]
        ticket.email = None
        assert [s.state for s in reply_states(ticket, True).values()] == ["no_email"]


def notices(page: str) -> List[str]:
    return [" ".join(re.sub(r"<[^>]+>", "", m).split())
            for m in re.findall(r'<p class="notice notice-\w+">(.*?)</p>', page, re.S)]


def test_the_ticket_page_states_each_replys_notification_in_words(app: FastAPI) -> None:
    add_ticket(app, "AK-NOTE-0004")
    for text in ("Gesendet.", "Abgelehnt.", "Wartet."):
        reply(app, "AK-NOTE-0004", text)
    with services_of(app).sessions() as db:
        ticket = service.get_ticket(db, "AK-NOTE-0004")
        assert ticket is not None
        first, second, _ = (r.id for r in ticket.replies)
        ticket.events.append(TicketEvent(actor="system", kind="notified", data={"reply_id": first}))
        ticket.events.append(TicketEvent(actor="system", kind="notify_failed", data={"reply_id": second,
                                                                                     "code": 550}))
        db.commit()
    page = staff(app, "weber", "buergerservice").get("/inbox/tickets/AK-NOTE-0004").text
    said = notices(page)
    assert len(said) == 3
    assert re.fullmatch(r"✓ E-Mail-Benachrichtigung gesendet am \d\d\.\d\d\.\d{4}, \d\d:\d\d\.", said[0])
    assert said[1].startswith("✗ E-Mail-Benachrichtigung fehlgeschlagen: Der Mailserver hat die Adresse am ")
    assert "(Code 550)" in said[1] and "Bitte prüfen Sie die Adresse" in said[1]
    assert said[2] == "… E-Mail-Benachrichtigung wartet auf den Versand (wird automatisch erneut versucht)."
    assert 'aria-hidden="true" class="notice-mark">✓' in page  # the mark is decoration; the words carry it
    assert "E-Mail-Benachrichtigung abgelehnt (Mailserver: 550)" in page  # and the history says it too


def test_without_an_smtp_server_the_page_says_no_mail_is_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "N", 2**10)
    app = create_app(Settings(home=tmp_path / "home", api_token=TOKEN,
                              database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}"))
    add_ticket(app, "AK-NOTE-0005")
    reply(app, "AK-NOTE-0005", "Antwort.")
    page = staff(app, "weber", "buergerservice").get("/inbox/tickets/AK-NOTE-0005").text
    assert notices(page) == ["– Keine E-Mail-Benachrichtigung: Der E-Mail-Versand ist nicht eingerichtet."]
