"""Ticket delivery from the action server: a real HTTP server that is down, then up; nothing lost or doubled."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest

from bot.config.settings import Settings
from bot.outbox.store import utcnow
from bot.tickets.client import POLICY, TicketClient, local_outbox, new_case_number
from tests.helpers.servers import ServerThread, free_port
from tests.helpers.ticket_api import TOKEN, ticket


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    yield Settings(home=tmp_path / "home", api_token=TOKEN)


def test_case_numbers_are_unambiguous_and_unique() -> None:
    numbers = {new_case_number() for _ in range(2000)}
    assert len(numbers) == 2000
    assert all(n.startswith("AK-") and len(n) == 12 and not set(n[3:]) & set("01OI") for n in numbers)


def test_ticket_survives_service_downtime_and_is_delivered_once(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    client = TicketClient(f"http://127.0.0.1:{port}", TOKEN, local_outbox(tmp_path / "outbox.sqlite3"), timeout=1.0)
    payload = ticket(case_number=new_case_number())
    assert client.submit(payload) is False  # service down: kept, not lost
    assert len(client.outbox) == 1
    restarted = local_outbox(tmp_path / "outbox.sqlite3")  # survives an action-server restart
    assert [i.payload["case_number"] for i in restarted.waiting()] == [payload["case_number"]]
    assert [i.attempts for i in restarted.waiting()] == [1] and len(restarted) == 1

    with ServerThread(settings, port):
        deadline = time.monotonic() + 30
        while len(client.outbox) and time.monotonic() < deadline:  # the background worker delivers it
            time.sleep(0.2)
        assert len(client.outbox) == 0
        assert client.submit(payload) is True  # a repeated delivery is recognised, not doubled
        import httpx

        listed = httpx.get(f"http://127.0.0.1:{port}/api/tickets", headers={"Authorization": f"Bearer {TOKEN}"})
        assert [t["case_number"] for t in listed.json()] == [payload["case_number"]]


def test_backoff_grows_and_is_capped_and_never_gives_up(tmp_path: Path) -> None:
    outbox = local_outbox(tmp_path / "o.sqlite3")
    start = utcnow()
    outbox.put("AK-2222-3333", ticket(case_number="AK-2222-3333"), now=start)
    shortest_cap = POLICY.max_s * (1 - POLICY.jitter)
    for attempt in range(1, 31):  # more than the shared policy allows the helpdesk: a citizen's ticket stays live
        [item] = outbox.lease(now=start + timedelta(days=attempt))
        retry_at = outbox.retry_later(item, "down", now=start + timedelta(days=attempt))
        assert retry_at is not None
        pause = (retry_at - (start + timedelta(days=attempt))).total_seconds()
        if attempt >= 12:
            assert shortest_cap <= pause <= POLICY.max_s
    assert outbox.lease(now=start + timedelta(days=30, seconds=shortest_cap - 1)) == []
    assert len(outbox.lease(now=start + timedelta(days=30, seconds=POLICY.max_s + 1))) == 1
    assert outbox.dead_letters() == [] and len(outbox) == 1


def test_tickets_queued_by_the_old_outbox_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    with sqlite3.connect(path) as db:  # the layout of the release before bot.outbox
        db.execute("CREATE TABLE outbox (case_number TEXT PRIMARY KEY, payload TEXT NOT NULL, "
                   "attempts INTEGER NOT NULL DEFAULT 0, next_try REAL NOT NULL, last_error TEXT)")
        for case in ("AK-2222-3333", "AK-4444-5555"):
            db.execute("INSERT INTO outbox (case_number, payload, next_try) VALUES (?, ?, ?)",
                       (case, json.dumps(ticket(case_number=case)), time.time()))
    outbox = local_outbox(path)
    assert [item.key for item in outbox.lease()] == ["AK-2222-3333", "AK-4444-5555"]
    assert [item.payload["case_number"] for item in outbox.lease(now=utcnow() + timedelta(hours=1))] == [
        "AK-2222-3333", "AK-4444-5555"]  # the lease ran out: both are still there
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'outbox'").fetchall() == []
    assert len(local_outbox(path)) == 2  # opening it again moves nothing twice


def test_a_ticket_queued_by_a_replaced_replica_is_delivered_once_by_another(settings: Settings) -> None:
    """Two action servers share their outbox in PostgreSQL (AUSKUNFT_ACTIONS_OUTBOX_URL): the first queues a ticket
    while the ticket API is away and is then replaced (its disk gone); the second delivers it, once."""
    import httpx

    from bot.tickets.client import actions_outbox
    from tests.helpers.postgres import drop_postgres, postgres_url

    url, port = postgres_url(), free_port()
    try:
        first = TicketClient(f"http://127.0.0.1:{port}", TOKEN, actions_outbox(url, settings.home / "gone"),
                             timeout=1.0)
        first.start_worker = lambda interval=2.0: None  # type: ignore[method-assign]  # replaced before it retries
        payload = ticket(case_number=new_case_number())
        assert first.submit(payload) is False  # queued in PostgreSQL, not on the replica's disk
        assert not (settings.home / "gone" / "outbox.sqlite3").exists()
        first.outbox.engine.dispose()  # the replica is replaced; its worker never runs
        second = TicketClient(f"http://127.0.0.1:{port}", TOKEN, actions_outbox(url, settings.home / "other"),
                              timeout=1.0)
        assert [i.payload["case_number"] for i in second.outbox.waiting()] == [payload["case_number"]]
        with ServerThread(settings, port):
            delivered, deadline = 0, time.monotonic() + 30
            while not delivered and time.monotonic() < deadline:  # as its worker does, once the retry is due
                delivered = second.flush()
                time.sleep(0.2)
            assert delivered == 1 and len(second.outbox) == 0 and len(first.outbox) == 0
            listed = httpx.get(f"http://127.0.0.1:{port}/api/tickets", headers={"Authorization": f"Bearer {TOKEN}"})
            assert [t["case_number"] for t in listed.json()] == [payload["case_number"]]
        second.outbox.engine.dispose()
    finally:
        drop_postgres(url)


def test_without_a_url_the_outbox_is_a_file_in_home(tmp_path: Path) -> None:
    from bot.tickets.client import actions_outbox

    outbox = actions_outbox("", tmp_path / "home")
    outbox.put("AK-2222-4444", ticket(case_number="AK-2222-4444"))
    assert (tmp_path / "home" / "outbox.sqlite3").is_file() and len(outbox) == 1
