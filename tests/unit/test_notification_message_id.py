"""A reply notification sent again (a worker killed after the mail server took it, before it noted ``notified``)
carries the same Message-ID, so that mail servers and clients can recognise the copy; other mails get other ids."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from fastapi import FastAPI

from bot.config.settings import Settings
from bot.notifications.mailer import Mailer, SmtpConfig
from bot.notifications.replies import notify_pending
from bot.staff import passwords
from bot.tickets import service
from bot.tickets.schemas import ReplyIn
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.helpers.inbox import add_ticket
from tests.helpers.mail_sink import MailSink, running_sink
from tests.helpers.servers import free_port
from tests.helpers.ticket_api import TOKEN


@pytest.fixture
def sink() -> Iterator[tuple]:
    port = free_port()
    runner = running_sink("127.0.0.1", port)
    yield next(runner), port
    runner.close()


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.setattr(passwords, "N", 2**10)
    return create_app(Settings(home=tmp_path / "home", api_token=TOKEN, background_jobs=False,
                               database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}"))


def _reply(app: FastAPI, case: str, text: str) -> None:
    with services_of(app).sessions() as db:
        ticket = service.get_ticket(db, case)
        assert ticket is not None
        service.add_reply(db, ticket, ReplyIn(author="Frau Weber", text=text), actor="weber")


def test_a_notification_sent_again_has_the_same_message_id(app: FastAPI, sink: tuple) -> None:
    mails, port = sink
    assert isinstance(mails, MailSink)
    mailer = Mailer(SmtpConfig("127.0.0.1", port, sender="Bürgerservice <noreply@musterstadt.example>"))
    add_ticket(app, "AK-MSID-0001")
    _reply(app, "AK-MSID-0001", "Erste Antwort.")
    with services_of(app).sessions() as db:
        assert notify_pending(db, mailer, "https://stadt.example/fall") == 1
        ticket = service.get_ticket(db, "AK-MSID-0001")
        assert ticket is not None
        for event in [e for e in ticket.events if e.kind == "notified"]:  # as if the worker died before noting it
            db.delete(event)
        db.commit()
    with services_of(app).sessions() as db:
        assert notify_pending(db, mailer, "https://stadt.example/fall") == 1  # sent again (at least once) ...
    _reply(app, "AK-MSID-0001", "Zweite Antwort.")
    with services_of(app).sessions() as db:
        assert notify_pending(db, mailer, "https://stadt.example/fall") == 1
    ids = [str(message["Message-ID"]) for message in mails.parsed()]
    assert len(ids) == 3 and ids[0] == ids[1] != ids[2]  # ... as the same message; the next reply is another
    assert all(i.startswith("<auskunft.") and i.endswith("@musterstadt.example>") for i in ids)
    assert "AK-MSID" not in "".join(ids)  # the id shows neither case number nor reply id


def test_the_domain_comes_from_the_sender_or_is_invalid() -> None:
    assert Mailer(SmtpConfig("h", sender="Amt <info@Stadt.Example>")).domain == "stadt.example"
    for odd in ("no address", "a@b@c", "x@<script>"):
        assert Mailer(SmtpConfig("h", sender=odd)).domain == "auskunft.invalid"
    mailer = Mailer(SmtpConfig("h"))
    assert mailer.stable_id("a", 1) == mailer.stable_id("a", 1) != mailer.stable_id("a", 2)
