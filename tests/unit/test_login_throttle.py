"""Progressive login delays (bot.staff.throttle) on every limit store (memory, SQLite, PostgreSQL, Redis), with a test
clock."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List

import pytest
from sqlalchemy.orm import Session

from bot.limits.base import Limiter
from bot.limits.memory import MemoryLimiter
from bot.staff import auth
from bot.staff.throttle import LoginThrottle, LoginThrottled, delay_for
from tests.helpers.limit_stores import STORES, Clock, limiter_store

PASSWORD = "ein-langes-passwort-123"


@pytest.fixture
def clock() -> Clock:
    return Clock(1_700_000_000.0)




@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, clock: Clock, tmp_path: Path) -> Iterator[Limiter]:
    """Every limiter store the deployment may choose, on the test clock."""
    with limiter_store(request.param, clock, tmp_path) as made:
        yield made


@pytest.fixture
def throttle(store: Limiter, clock: Clock) -> LoginThrottle:
    return LoginThrottle(store, "secret", clock)


def wait_of(throttle: LoginThrottle, name: str, address: str = "") -> int:
    """The ``retry_after`` of a refused check (fails the test when the check lets the attempt through)."""
    with pytest.raises(LoginThrottled) as refused:
        throttle.check(name, address)
    return refused.value.retry_after


def fail(throttle: LoginThrottle, clock: Clock, name: str, address: str = "", times: int = 1) -> None:
    """``times`` failed attempts, each let through and 1.5 s after the last (a person typing again)."""
    for _ in range(times):
        throttle.check(name, address)
        throttle.failed(name, address)
        clock.now += 1.5


def test_the_delay_doubles_after_the_free_failures_up_to_a_minute() -> None:
    assert [delay_for(n, 5) for n in range(5)] == [0.0] * 5
    assert [delay_for(n, 5) for n in range(5, 14)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert delay_for(10**6, 5) == 60  # no overflow however many


def test_each_attempt_after_five_failures_waits_a_growing_delay(throttle: LoginThrottle, clock: Clock) -> None:
    fail(throttle, clock, "weber", times=5)
    clock.now -= 1.5  # back to the moment of the fifth failure
    waited: List[int] = []
    for _ in range(8):
        waited.append(wait_of(throttle, "weber"))
        clock.now += waited[-1] - 0.25
        assert wait_of(throttle, "weber") == 1  # still inside the delay: refused, nothing counted
        clock.now += 0.25
        throttle.check("weber")  # the delay is over: this attempt may be made ...
        throttle.failed("weber")  # ... and fails too
    assert waited == [1, 2, 4, 8, 16, 32, 60, 60]


def test_the_right_password_after_the_delay_clears_the_name(throttle: LoginThrottle, clock: Clock) -> None:
    fail(throttle, clock, "weber", times=6)  # the sixth came 1.5 s after the fifth, after the delay of 1 s
    clock.now -= 1.5
    assert wait_of(throttle, "weber") == 2
    clock.now += 2
    throttle.check("weber")
    throttle.succeeded("weber")
    clock.now += 1.5
    fail(throttle, clock, "weber", times=5)  # five free failures again, none refused
    assert throttle.failures(throttle._keys("weber", "")[0][0])[0] == 5


def test_names_are_counted_apart_and_failures_are_forgotten(throttle: LoginThrottle, clock: Clock) -> None:
    fail(throttle, clock, "weber", times=6)
    throttle.check("schulz")  # another name has its own count
    clock.now += throttle.forget_after + 1
    fail(throttle, clock, "weber", times=5)  # forgotten: free again


def test_a_password_spray_from_one_address_is_slowed_down(throttle: LoginThrottle, clock: Clock) -> None:
    for number in range(throttle.free_per_address):  # one try per name: no name reaches its own limit
        fail(throttle, clock, f"agent{number}", "addr-1")
    clock.now -= 1.5
    assert wait_of(throttle, "noch.einer", "addr-1") == 1  # but the address did
    throttle.check("noch.einer", "addr-2")  # another address (another /64) is not affected
    clock.now += 1
    throttle.check("agent1", "addr-1")
    throttle.succeeded("agent1")  # one right password does not reset the address (else a spray could)
    throttle.failed("noch.einer", "addr-1")
    assert wait_of(throttle, "noch.einer", "addr-1") == 2


def test_attempts_sent_at_the_same_moment_pass_one_at_a_time(throttle: LoginThrottle, clock: Clock) -> None:
    fail(throttle, clock, "weber")
    throttle.check("weber")  # a burst: the first of two parallel attempts passes ...
    assert wait_of(throttle, "weber") == 1  # ... the second waits until the first has been counted
    clock.now += 1.0
    throttle.check("weber")


def test_unknown_names_have_a_budget_per_address(store: Limiter, clock: Clock) -> None:
    throttle = LoginThrottle(store, "secret", clock, unknown_per_address=3, unknown_window=600)
    for number in range(3):
        throttle.check(f"gibt.es.nicht{number}", "addr-1")
        throttle.unknown_name(f"gibt.es.nicht{number}", "addr-1")
        throttle.failed(f"gibt.es.nicht{number}", "addr-1")
        clock.now += 1.5
    with pytest.raises(LoginThrottled) as refused:  # the fourth is refused before its (costly) hash
        throttle.unknown_name("gibt.es.nicht3", "addr-1")
    assert 590 < refused.value.retry_after <= 600
    assert wait_of(throttle, "weber", "addr-1") > 590  # now every name from the address waits: no name oracle
    throttle.check("weber", "addr-2")
    throttle.unknown_name("gibt.es.nicht3", "addr-2")
    clock.now += 600
    throttle.check("weber", "addr-1")


def test_the_store_holds_no_user_name(clock: Clock) -> None:
    store = MemoryLimiter(clock)
    throttle = LoginThrottle(store, "secret", clock)
    fail(throttle, clock, "weber", "addr-1", times=2)
    stored = " ".join(list(store._notes) + list(store._events))
    assert "weber" not in stored and "login:f:a:addr-1" in stored


def test_a_throttled_attempt_does_not_check_the_password(session: Session, clock: Clock,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.tickets.departments import Departments

    known = Departments.load(Path(__file__).resolve().parents[2] / "departments.yml")
    auth.create_agent(session, "weber", "Frau Weber", PASSWORD, [], is_manager=True, known=known)
    throttle = LoginThrottle(MemoryLimiter(clock), "secret", clock)
    for _ in range(5):
        assert auth.authenticate(session, "weber", "falsches-passwort", throttle, "addr-1") is None
        clock.now += 1.5
    clock.now -= 1.0
    checked: List[str] = []

    def verify(password: str, encoded: str) -> bool:
        checked.append(password)
        return True

    monkeypatch.setattr(auth, "verify_password", verify)
    with pytest.raises(LoginThrottled):
        auth.authenticate(session, "weber", PASSWORD, throttle, "addr-1")
    assert checked == []
    clock.now += 1.0
    agent = auth.authenticate(session, "Weber", PASSWORD, throttle, "addr-1")
    assert agent is not None and agent.username == "weber" and checked == [PASSWORD]


def test_nonsensical_settings_are_refused(store: Limiter) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LoginThrottle(store, free_per_name=0)
