"""The shared outbox and retry policy on real databases (SQLite file, PostgreSQL when available)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, List

import pytest
from alembic import command
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db.migrations import baseline
from bot.db.upgrade import alembic_config
from bot.helpdesk.outbox import outbox
from bot.outbox import DEFAULT_POLICY, Outbox, RetryPolicy
from tests.helpers.postgres import DATABASES, drop_postgres, postgres_url

START = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=DATABASES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'outbox.sqlite3'}" if request.param == "sqlite" else postgres_url()
    made = create_engine(url, connect_args={"check_same_thread": False} if url.startswith("sqlite") else {},
                         future=True)
    yield made
    made.dispose()
    if request.param == "postgresql":
        drop_postgres(url)


def test_policy_doubles_caps_and_gives_up() -> None:
    exact = RetryPolicy(jitter=0)
    assert [exact.delay(n) for n in range(1, 11)] == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]
    assert exact.delay(10_000) == 900 and RetryPolicy(1, 60).delay(3) == 4
    assert exact.pause(1, retry_after=60) == 60 and exact.pause(1, retry_after=86400) == 900
    assert not exact.gives_up(19) and exact.gives_up(20)


def test_jitter_only_shortens_and_spreads() -> None:
    pauses = {DEFAULT_POLICY.delay(3) for _ in range(200)}
    assert all(20 * (1 - DEFAULT_POLICY.jitter) <= p <= 20 for p in pauses) and len(pauses) > 100
    assert DEFAULT_POLICY.delay(3, rng=lambda: 0.0) == 20 and DEFAULT_POLICY.delay(50) <= DEFAULT_POLICY.max_s


@pytest.mark.parametrize("bad", [{"base_s": 0}, {"max_s": 1}, {"max_attempts": 0}, {"jitter": 1.0}])
def test_policy_refuses_nonsense(bad: dict) -> None:
    with pytest.raises(ValueError, match="RetryPolicy needs"):
        RetryPolicy(**bad)


def test_put_once_lease_retry_done(engine: Engine) -> None:
    outbox = Outbox(engine, "mail", policy=RetryPolicy(jitter=0, max_attempts=3), clock=lambda: START)
    assert outbox.put("k1", {"to": "a"}) is True and outbox.put("k1", {"to": "other"}) is False
    assert Outbox(engine, "other").put("k1", {}) is True  # kinds are separate
    assert len(outbox) == 1 and [i.payload for i in outbox.waiting()] == [{"to": "a"}]
    [item] = outbox.lease()
    assert (item.key, item.payload, item.attempts) == ("k1", {"to": "a"}, 0)
    assert outbox.lease() == []  # leased: not handed out twice
    assert outbox.retry_later(item, "down") == START + timedelta(seconds=5)
    assert outbox.lease(now=START + timedelta(seconds=4)) == []
    [again] = outbox.lease(now=START + timedelta(seconds=5))
    assert again.attempts == 1 and outbox.done(again, ref="R-1") is True and len(outbox) == 0
    receipt = outbox.get("k1")
    assert receipt is not None and (receipt.status, receipt.ref, receipt.payload, receipt.attempts) == (
        "delivered", "R-1", {}, 2)  # a receipt without the payload
    assert outbox.put("k1", {"to": "a"}) is False and outbox.lease(now=START + timedelta(days=1)) == []


def test_too_many_attempts_or_a_rejection_make_a_dead_letter(engine: Engine) -> None:
    outbox = Outbox(engine, "mail", policy=RetryPolicy(jitter=0, max_attempts=2), clock=lambda: START)
    outbox.put("k1", {"n": 1}, error="first try failed")  # the caller tried once already
    outbox.put("k2", {"n": 2})
    [second] = outbox.lease()
    assert second.key == "k2"  # k1 waits for the first pause
    [first] = outbox.lease(now=START + timedelta(seconds=5))
    assert first.attempts == 1 and outbox.retry_later(first, "again") is None  # second failure: gives up
    assert outbox.dead(second, "rejected: HTTP 422") is True  # a refusal is not retried
    assert [(i.key, i.attempts) for i in outbox.dead_letters()] == [("k1", 2), ("k2", 1)] and len(outbox) == 0
    assert outbox.lease(now=START + timedelta(days=1)) == []  # dead letters are kept, never handed out again


def test_a_lost_lease_records_nothing(engine: Engine) -> None:
    slow = Outbox(engine, "mail", lease=timedelta(seconds=60), clock=lambda: START)
    thief = Outbox(engine, "mail", lease=timedelta(seconds=60))
    slow.put("k1", {})
    [item] = slow.lease()
    assert thief.lease(now=START + timedelta(seconds=59)) == []
    [stolen] = thief.lease(now=START + timedelta(seconds=61))
    assert slow.done(item) is False and slow.retry_later(item, "x") is None and len(slow) == 1
    assert thief.done(stolen) is True and len(slow) == 0


@pytest.mark.timeout(120)
def test_two_workers_never_take_the_same_item(engine: Engine) -> None:
    for n in range(40):
        Outbox(engine, "mail").put(f"k{n}", {"n": n})
    workers = [Outbox(engine, "mail") for _ in range(2)]
    taken: List[List[str]] = [[], []]
    barrier = threading.Barrier(2)

    def work(index: int) -> None:
        barrier.wait()
        while True:
            batch = workers[index].lease(3)
            if not batch:
                return
            for item in batch:
                taken[index].append(item.key)
                workers[index].done(item)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(taken[0] + taken[1]) == sorted(f"k{n}" for n in range(40))  # each once, none twice
    assert len(workers[0]) == 0


def test_revision_0002_moves_the_helpdesk_deliveries_into_the_outbox_and_back(engine: Engine) -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    tickets, deliveries = baseline.metadata.tables["tickets"], baseline.metadata.tables["deliveries"]
    rows = [("AK-2222-2222", "pending", None), ("AK-3333-3333", "delivered", "HD-7"), ("AK-4444-4444", "failed", None)]
    with engine.begin() as connection:
        for n, (case, status, ref) in enumerate(rows, start=1):
            connection.execute(tickets.insert().values(
                id=n, case_number=case, conversation_id=f"c{n}", status="waiting", language="de", reason="r",
                question="?", candidates=[], transcript=[], consent=True, created_at=START, updated_at=START))
            connection.execute(deliveries.insert().values(
                case_number=case, connector="zammad", status=status, attempts=n, next_attempt_at=START,
                last_error="DeliveryError: down" if status != "delivered" else None, external_ref=ref,
                created_at=START, delivered_at=START if status == "delivered" else None))
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0002")

    with Session(engine) as session:
        box = outbox(session, "zammad")
        assert [(i.key, i.status, i.attempts, i.payload) for i in [box.get(c) for c, _, _ in rows] if i] == [
            ("AK-2222-2222", "pending", 1, {"case_number": "AK-2222-2222"}), ("AK-3333-3333", "delivered", 2, {}),
            ("AK-4444-4444", "dead", 3, {"case_number": "AK-4444-4444"})]
        assert box.get("AK-3333-3333").ref == "HD-7"  # type: ignore[union-attr]
        assert [i.key for i in box.lease(now=START)] == ["AK-2222-2222"]  # due, and only the live one
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0001")
        back = connection.execute(deliveries.select().order_by(deliveries.c.id)).all()
    assert [(r.case_number, r.status, r.attempts, r.external_ref) for r in back] == [
        ("AK-2222-2222", "pending", 1, None), ("AK-3333-3333", "delivered", 2, "HD-7"),
        ("AK-4444-4444", "failed", 3, None)]
