"""Dead letters: the listing, retry and discard, retention, and the managers' page and alert in the inbox.

On SQLite and a real PostgreSQL; the web part through the app (FastAPI's TestClient, logged-in agents), and once
through the real web service (uvicorn on a port) with a browser-like client.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from bot.config.settings import Settings
from bot.helpdesk.outbox import enqueue, outbox
from bot.tickets import dead_letters
from bot.tickets.models import Ticket, TicketEvent
from bot.tickets.retention import purge
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.helpers.inbox import CSRF, PASSWORD, add_ticket, app_on_database, staff
from tests.helpers.postgres import DATABASES
from tests.helpers.servers import ServerThread, free_port

REJECTED = "422 vom Ticketsystem: Feld 'customer' ungültig für max@example.org"


@pytest.fixture(params=DATABASES)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FastAPI]:
    """An app on a real database: SQLite, and PostgreSQL (a fresh database)."""
    with app_on_database(request.param, tmp_path) as made:
        yield made


def seed(app: FastAPI) -> None:
    """AK-AAAA-0001's helpdesk delivery was rejected; AK-BBBB-0002's notification was refused by the mail server."""
    add_ticket(app, "AK-AAAA-0001")
    add_ticket(app, "AK-BBBB-0002")
    with services_of(app).sessions() as session:
        ticket = session.execute(select(Ticket).where(Ticket.case_number == "AK-AAAA-0001")).scalar_one()
        assert enqueue(session, ticket, "zammad")
        box = outbox(session, "zammad")
        [item] = box.lease()
        assert box.dead(item, REJECTED)
        other = session.execute(select(Ticket).where(Ticket.case_number == "AK-BBBB-0002")).scalar_one()
        other.events.append(TicketEvent(actor="system", kind="notify_failed", data={"reply_id": 7, "code": 550}))
        session.commit()


def test_listing_retry_discard_and_retention(app: FastAPI) -> None:
    seed(app)
    with services_of(app).sessions() as session:
        letters = dead_letters.dead_letters(session)
        assert [(x.kind, x.case_number, x.target) for x in letters] == [
            ("notification", "AK-BBBB-0002", "E-Mail"), ("helpdesk", "AK-AAAA-0001", "zammad")]
        assert "[E-MAIL]" in letters[1].error and "max@example.org" not in letters[1].error
        assert letters[0].error == "Der Mailserver hat die Adresse abgelehnt (Code 550)."
        dead_letters.retry(session, letters[1].ref, "leitung")
        assert [i.key for i in outbox(session, "zammad").waiting()] == ["AK-AAAA-0001"]  # due again
        assert outbox(session, "zammad").get("AK-AAAA-0001").attempts == 0
        dead_letters.discard(session, letters[0].ref, "leitung")
        assert dead_letters.count(session) == 0
        with pytest.raises(dead_letters.DeadLetterGone):
            dead_letters.retry(session, letters[0].ref, "leitung")
        with pytest.raises(dead_letters.DeadLetterGone):
            dead_letters.discard(session, "outbox-x", "leitung")
        history = [(e.actor, e.data) for e in session.execute(
            select(TicketEvent).where(TicketEvent.kind == "dead_letter").order_by(TicketEvent.id)).scalars()]
        assert history[0] == ("leitung", {"action": "retry", "what": "helpdesk", "target": "zammad"})
        assert history[1][0] == "leitung" and history[1][1]["action"] == "discard"

        box = outbox(session, "zammad")  # rejected once more, then discarded: a receipt that is never queued again
        [item] = box.lease()
        box.dead(item, "abgelehnt")
        dead_letters.discard(session, dead_letters.dead_letters(session)[0].ref, "leitung")
        ticket = session.execute(select(Ticket).where(Ticket.case_number == "AK-AAAA-0001")).scalar_one()
        assert not enqueue(session, ticket, "zammad") and outbox(session, "zammad").get("AK-AAAA-0001").payload == {}
        assert enqueue(session, ticket, "other")
        other = outbox(session, "other")
        [item] = other.lease()
        assert other.dead(item, "abgelehnt")  # a dead letter of an open ticket

        report = purge(session, 90, now=datetime.now(timezone.utc) + timedelta(days=91))
        assert report.dead_letters == 2 and report.tickets == 0  # the dead letter and the discarded receipt
        assert outbox(session, "other").get("AK-AAAA-0001") is None and dead_letters.count(session) == 0


def test_managers_see_the_alert_and_the_page_and_act_with_csrf(app: FastAPI) -> None:
    seed(app)
    manager = staff(app, "leitung", manager=True)
    agent = staff(app, "sachbearbeitung", "buergerservice")
    queue = manager.get("/inbox")
    assert "2 Zustellungen sind endgültig fehlgeschlagen." in queue.text and 'href="/inbox/zustellungen"' in queue.text
    assert "Zustellungen sind" not in agent.get("/inbox").text
    refused = agent.get("/inbox/zustellungen")
    assert refused.status_code == 403 and "sieht nur die Leitung" in refused.text and "AK-AAAA" not in refused.text

    page = manager.get("/inbox/zustellungen")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Weitergabe an das Ticketsystem (zammad)" in page.text and "E-Mail-Benachrichtigung" in page.text
    assert "AK-AAAA-0001" in page.text and "AK-BBBB-0002" in page.text and "[E-MAIL]" in page.text
    assert "max@example.org" not in page.text  # neither the rejected error nor the ticket's address
    token = CSRF.search(page.text).group(1)
    with services_of(app).sessions() as session:
        helpdesk, notification = (dead_letters.dead_letters(session)[1].ref, dead_letters.dead_letters(session)[0].ref)

    forged = manager.post("/inbox/zustellungen/erneut", data={"ref": helpdesk}, follow_redirects=False)
    assert forged.status_code == 403
    assert agent.post("/inbox/zustellungen/erneut", data={"ref": helpdesk, "csrf_token": CSRF.search(
        agent.get("/inbox").text).group(1)}, follow_redirects=False).status_code == 403
    done = manager.post("/inbox/zustellungen/erneut", data={"ref": helpdesk, "csrf_token": token},
                        follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/inbox/zustellungen?meldung=erneut"
    assert "Die Zustellung wird erneut versucht." in manager.get(done.headers["location"]).text
    assert "1 Zustellung ist endgültig fehlgeschlagen." in manager.get("/inbox").text
    gone = manager.post("/inbox/zustellungen/verwerfen", data={"ref": helpdesk, "csrf_token": token},
                        follow_redirects=False)
    assert "gibt es nicht mehr" in manager.get(gone.headers["location"]).text
    manager.post("/inbox/zustellungen/verwerfen", data={"ref": notification, "csrf_token": token})
    assert "Keine fehlgeschlagenen Zustellungen." in manager.get("/inbox/zustellungen").text
    assert "endgültig fehlgeschlagen" not in manager.get("/inbox").text
    assert "Frau Leitung: Fehlgeschlagene Zustellung verworfen" in manager.get("/inbox/tickets/AK-BBBB-0002").text
    assert "Frau Leitung: Fehlgeschlagene Zustellung erneut angestoßen" in manager.get(
        "/inbox/tickets/AK-AAAA-0001").text


def test_the_page_through_the_real_web_service(tmp_path: Path) -> None:
    from bot.staff.auth import create_agent

    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}")
    seeding = create_app(settings)  # the same database; the served app is another instance, as in production
    seed(seeding)
    with services_of(seeding).sessions() as session:
        create_agent(session, "leitung", "Frau Leitung", PASSWORD, [], True)
    services_of(seeding).close()
    port = free_port()
    with ServerThread(settings, port), httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        token = CSRF.search(client.get("/inbox/login").text).group(1)
        assert client.post("/inbox/login", data={"username": "leitung", "password": PASSWORD, "csrf_token": token,
                                                 "next": "/inbox"}).status_code == 303
        assert "2 Zustellungen sind endgültig fehlgeschlagen." in client.get("/inbox").text
        page = client.get("/inbox/zustellungen")
        assert page.status_code == 200 and "max@example.org" not in page.text
        token = CSRF.search(page.text).group(1)
        refs = list(dict.fromkeys(re.findall(r'name="ref" value="([^"]+)"', page.text)))  # two forms per row
        assert refs and refs[0].startswith("notification-")
        assert client.post("/inbox/zustellungen/verwerfen", data={"ref": refs[0]}).status_code == 403  # no token
        for ref in refs:
            done = client.post("/inbox/zustellungen/verwerfen", data={"ref": ref, "csrf_token": token})
            assert done.status_code == 303
        assert "Keine fehlgeschlagenen Zustellungen." in client.get("/inbox/zustellungen").text


def test_a_retried_notification_is_sent_on_the_next_run(app: FastAPI) -> None:
    from bot.notifications.replies import pending
    from bot.tickets import service
    from bot.tickets.schemas import ReplyIn

    add_ticket(app, "AK-CCCC-0003")
    with services_of(app).sessions() as session:
        ticket = session.execute(select(Ticket).where(Ticket.case_number == "AK-CCCC-0003")).scalar_one()
        reply = service.add_reply(session, ticket, ReplyIn(text="Ihre Antwort liegt vor.", author="Frau Weber"),
                                  "weber")
        ticket.events.append(TicketEvent(actor="system", kind="notify_failed", data={"reply_id": reply.id,
                                                                                    "code": 550}))
        session.commit()
        [letter] = dead_letters.dead_letters(session)
        assert letter.kind == "notification" and "Ihre Antwort" not in letter.error
        dead_letters.retry(session, letter.ref, "leitung")
        assert [(t.case_number, r.id) for t, r in pending(session)] == [("AK-CCCC-0003", reply.id)]
        assert dead_letters.count(session) == 0


def test_retention_counts_from_the_last_attempt_and_keeps_other_receipts(app: FastAPI) -> None:
    from sqlalchemy import insert

    from bot.outbox.store import items

    now = datetime.now(timezone.utc)
    old, recent = now - timedelta(days=100), now - timedelta(days=1)
    rows = {"died-long-ago": dict(dead=True, created_at=old, next_attempt_at=old),
            "retried-died-yesterday": dict(dead=True, created_at=old, next_attempt_at=recent),
            "discarded-long-ago": dict(dead=False, created_at=old, next_attempt_at=old, delivered_at=old,
                                       ref=dead_letters.DISCARDED),
            "delivered-long-ago": dict(dead=False, created_at=old, next_attempt_at=old, delivered_at=old, ref="4711"),
            "waiting": dict(dead=False, created_at=old, next_attempt_at=recent)}
    with services_of(app).sessions() as session:
        for key, values in rows.items():
            session.execute(insert(items).values(kind="helpdesk:zammad", key=key, payload={}, attempts=3, **values))
        session.commit()
        assert dead_letters.purge_dead(session, now - timedelta(days=90)) == 2
        session.commit()
        left = {row.key for row in session.execute(select(items.c.key))}
    assert left == {"retried-died-yesterday", "delivered-long-ago", "waiting"}
