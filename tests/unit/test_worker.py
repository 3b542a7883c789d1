"""The background worker (``auskunft serve worker``): turns, notifications with two workers, readiness, entry point."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, List

import httpx
import pytest
from sqlalchemy import create_engine

from bot.config.settings import Settings
from bot.outbox.turn import Turn
from bot.run.serve import command_for
from bot.tickets import service
from bot.tickets.departments import Departments
from bot.tickets.schemas import ReplyIn, TicketCreate
from bot.web.worker import build_jobs, health, run
from tests.helpers.mail_sink import MailSink, running_sink
from tests.helpers.postgres import DATABASES, drop_postgres, postgres_url
from tests.helpers.servers import free_port
from tests.helpers.ticket_api import ticket


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_a_turn_is_held_by_one_worker_and_taken_over_once_its_holder_stops_renewing(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'turns.sqlite3'}", future=True)
    clock = Clock()
    first, second = (Turn(engine, "notifications", lease=timedelta(seconds=30), clock=clock) for _ in range(2))
    with first.held() as mine:
        assert mine
        with second.held() as theirs:
            assert not theirs  # one at a time
    with second.held() as theirs:
        assert theirs  # released after the round, at once
    taken = first.box.lease(1)  # a holder that dies: leased, never renewed or released
    assert taken
    with second.held() as theirs:
        assert not theirs
    clock.now += timedelta(seconds=31)
    with second.held() as theirs:
        assert theirs  # the dead holder's lease ran out
    assert not first.box.release(taken[0])  # the dead holder's late release changes nothing
    assert first.box.dead_letters() == [] and first.box.get("turn").attempts == 0  # type: ignore[union-attr]


@pytest.fixture
def smtp() -> Iterator[tuple[MailSink, int]]:
    port = free_port()
    sinks = running_sink("127.0.0.1", port)
    yield next(sinks), port
    sinks.close()


def _settings(tmp_path: Path, port: int, **extra: object) -> Settings:
    return Settings(home=tmp_path, smtp_host="127.0.0.1", smtp_port=port, lease_seconds=6,
                    worker_port=free_port(), **extra)  # type: ignore[arg-type]


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tickets.sqlite3'}"
        return
    url = postgres_url()
    try:
        yield url
    finally:
        drop_postgres(url)


def test_two_workers_at_once_send_each_notification_once(tmp_path: Path, smtp: tuple[MailSink, int],
                                                          database_url: str) -> None:
    sink, port = smtp
    settings = _settings(tmp_path, port, database_url=database_url)
    jobs = [build_jobs(settings), build_jobs(settings)]  # two processes' worth: own engines, own owners
    departments = Departments.load(settings.departments_file)
    with jobs[0].sessions() as session:
        for number in range(3):
            data = ticket(case_number=f"AK-MAIL-000{number}", conversation_id=f"conversation-{number:026d}")
            created = service.create_ticket(session, TicketCreate(**data), departments)[0]
            service.add_reply(session, created, ReplyIn(author="Frau A.", text="Ihre Urkunde liegt bereit."))
    sink.hold.set()  # the first worker's first mail waits at RCPT while the second one tries
    sent: List[int] = []
    threads = [threading.Thread(target=lambda j=j: sent.append(j.notify())) for j in jobs]
    for thread in threads:
        thread.start()
        time.sleep(0.5)
    time.sleep(1.0)
    assert len(sink.held_peers) == 1  # only the holder of the turn talks to the mail server
    sink.hold.clear()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(sent) == [0, 3]
    assert sorted(m["Subject"] for m in sink.parsed()) == [f"Antwort auf Ihr Anliegen AK-MAIL-000{n}"
                                                            for n in range(3)]
    assert [job.notify() for job in jobs] == [0, 0]  # never twice


def test_the_worker_runs_rounds_and_reports_ready_until_stopped(tmp_path: Path, smtp: tuple[MailSink, int]) -> None:
    settings = _settings(tmp_path, smtp[1], worker_seconds=0.2)
    stop = threading.Event()
    worker = threading.Thread(target=run, args=(settings, stop))
    worker.start()
    try:
        url = f"http://127.0.0.1:{settings.worker_port}/health"
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(url, timeout=2)
                if answer.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the worker never answered 200 on /health"
            time.sleep(0.1)
        assert answer.json() == {"status": "ok", "detail": "ok"}
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()


def test_readiness_says_why_the_worker_is_not_ready(tmp_path: Path) -> None:
    jobs = build_jobs(Settings(home=tmp_path))
    code, text = health(jobs, 5.0)
    assert code == 503 and "no round has completed yet" in text
    jobs.last_ok = 100.0
    assert health(jobs, 5.0, now=140.0) == (200, "ok")
    code, text = health(jobs, 5.0, now=200.0)
    assert code == 503 and "100 s ago" in text


def test_auskunft_serve_worker_starts_the_worker_module_with_the_training_stack_kept_out(tmp_path: Path) -> None:
    command, env = command_for(Settings(home=tmp_path), "worker")
    assert command[1:] == ["-m", "bot.run.lean_imports", "bot.web.worker"]
    assert env["AUSKUNFT_HOME"] == str(tmp_path)
