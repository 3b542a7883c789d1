"""Ticket delivery from the action server: a real HTTP server that is down, then up; nothing lost or doubled."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
import uvicorn

from bot.config.settings import Settings
from bot.tickets.client import Outbox, TicketClient, new_case_number
from bot.web.app import create_app
from tests.unit.test_ticket_api import TOKEN, ticket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """The real web service in a background thread (uvicorn)."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    yield Settings(home=tmp_path / "home", api_token=TOKEN)


def test_case_numbers_are_unambiguous_and_unique() -> None:
    numbers = {new_case_number() for _ in range(2000)}
    assert len(numbers) == 2000
    assert all(n.startswith("AK-") and len(n) == 12 and not set(n[3:]) & set("01OI") for n in numbers)


def test_ticket_survives_service_downtime_and_is_delivered_once(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    client = TicketClient(f"http://127.0.0.1:{port}", TOKEN, Outbox(tmp_path / "outbox.sqlite3"), timeout=1.0)
    payload = ticket(case_number=new_case_number())
    assert client.submit(payload) is False  # service down: kept, not lost
    assert len(client.outbox) == 1
    restarted = Outbox(tmp_path / "outbox.sqlite3")  # survives an action-server restart
    assert [p["case_number"] for p in restarted.due(now=time.time() + 3600)] == [payload["case_number"]]

    with ServerThread(settings, port):
        deadline = time.monotonic() + 30
        while len(client.outbox) and time.monotonic() < deadline:  # the background worker delivers it
            time.sleep(0.2)
        assert len(client.outbox) == 0
        assert client.submit(payload) is True  # a repeated delivery is recognised, not doubled
        import httpx

        listed = httpx.get(f"http://127.0.0.1:{port}/api/tickets", headers={"Authorization": f"Bearer {TOKEN}"})
        assert [t["case_number"] for t in listed.json()] == [payload["case_number"]]


def test_backoff_grows_and_is_capped(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    outbox.put(ticket(case_number="AK-2222-3333"))
    start = time.time()
    for _ in range(12):
        outbox.failed("AK-2222-3333", "down")
    assert outbox.due(now=start + 599) == []
    assert len(outbox.due(now=start + 601)) == 1
