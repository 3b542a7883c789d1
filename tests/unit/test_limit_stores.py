"""Every limiter store keeps the same promise: at most ``limit`` events per sliding window per key, notes expire.

Memory, SQLite and PostgreSQL (the project's database, migrated) always; Redis against the real server at
``AUSKUNFT_TEST_REDIS`` (default 127.0.0.1:6379), marked ``integration`` and never skipped on CI.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator, List

import pytest

from bot.limits.base import Budget, Limiter, Note
from tests.helpers.limit_stores import STORES, Clock, limiter_store


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, clock: Clock, tmp_path: Path) -> Iterator[Limiter]:
    """Every limiter store the deployment may choose, on the test clock."""
    with limiter_store(request.param, clock, tmp_path) as made:
        yield made


def test_the_limit_holds_per_key_and_a_refusal_says_how_long_to_wait(store: Limiter, clock: Clock) -> None:
    assert isinstance(store, Limiter)
    assert [store.hit("a", 3, 60).allowed for _ in range(5)] == [True, True, True, False, False]
    refused = store.hit("a", 3, 60)
    assert not refused.allowed and 59 <= refused.retry_after <= 60 and refused.retry_after_header == "60"
    assert store.hit("b", 3, 60).allowed  # another key has its own budget


def test_the_window_slides_and_refused_events_are_not_counted(store: Limiter, clock: Clock) -> None:
    store.hit("k", 2, 10)
    clock.now += 4
    store.hit("k", 2, 10)
    clock.now += 5  # 9 s after the first: both still in the window
    refused = store.hit("k", 2, 10)
    assert not refused.allowed and refused.retry_after == pytest.approx(1, abs=0.01)
    clock.now += 1.5  # the first left the window, the refused tries never counted
    assert store.hit("k", 2, 10).allowed
    assert not store.hit("k", 2, 10).allowed
    clock.now += 4  # the second left too
    assert store.hit("k", 2, 10).allowed


def test_notes_are_kept_until_they_expire(store: Limiter, clock: Clock) -> None:
    assert store.recall("origin:c1") is None
    store.note("origin:c1", "abc", 60)
    store.note("origin:c1", "def", 60)  # a later note replaces the earlier
    assert store.recall("origin:c1") == "def"
    clock.now += 61
    assert store.recall("origin:c1") is None


def test_concurrent_hits_never_let_more_than_the_limit_through(store: Limiter) -> None:
    allowed: List[bool] = []
    lock = threading.Lock()

    def burst() -> None:
        for _ in range(10):
            decision = store.hit("shared", 15, 60)
            with lock:
                allowed.append(decision.allowed)

    threads = [threading.Thread(target=burst) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(allowed) == 60 and allowed.count(True) == 15


def test_a_nonsensical_budget_is_refused_with_what_to_change(store: Limiter) -> None:
    with pytest.raises(ValueError, match="limit >= 1"):
        store.hit("k", 0, 60)


def test_several_budgets_count_all_or_nothing_and_keep_the_note(store: Limiter, clock: Clock) -> None:
    both = [Budget("conv", 2, 60), Budget("addr", 3, 600)]
    assert store.hit_all(both, Note("origin:conv", "addr", 60)).allowed
    assert store.recall("origin:conv") == "addr"
    assert store.hit_all(both).allowed
    refused = store.hit_all(both, Note("origin:conv", "other", 60))  # the conversation's budget is spent ...
    assert not refused.allowed and refused.retry_after == pytest.approx(60, abs=0.01)
    assert store.recall("origin:conv") == "addr"  # ... so nothing was noted
    assert store.hit_all([Budget("addr", 3, 600)]).allowed  # ... nor counted under the address: one left
    clock.now += 61
    refused = store.hit_all(both)  # the conversation has room again, the address (600 s) not
    assert not refused.allowed and refused.retry_after == pytest.approx(600 - 61, abs=0.01)
