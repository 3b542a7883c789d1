"""The second factor of local accounts with a fixed clock: enrolment, wrong and replayed codes, the throttle, reset."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from bot.staff import totp
from bot.staff.auth import create_agent
from bot.staff.models import StaffAudit
from bot.staff.throttle import LoginThrottle, LoginThrottled
from bot.tickets.departments import Departments

NOW = 1_790_000_000.0  # a fixed moment; steps of 30 s from here


def _agent(session, name: str = "weber"):  # type: ignore[no-untyped-def]
    known = Departments.load(Path(__file__).resolve().parents[2] / "departments.yml")
    return create_agent(session, name, "Frau Weber", "ein-langes-passwort-123", [known.keys()[0]], known=known)


def test_a_secret_is_stored_only_after_a_right_code_from_it(session) -> None:  # type: ignore[no-untyped-def]
    agent = _agent(session)
    secret = totp.new_secret()
    assert len(secret) == 32 and pyotp.TOTP(secret).now()
    assert totp.provisioning_uri(secret, agent.username).startswith("otpauth://totp/Auskunft:weber?secret=")
    wrong = pyotp.TOTP(totp.new_secret()).at(NOW)
    assert not totp.confirm_enrolment(session, agent, secret, wrong, now=NOW)
    assert agent.totp_secret is None and not totp.needs_code(agent)
    assert totp.confirm_enrolment(session, agent, secret, pyotp.TOTP(secret).at(NOW), now=NOW)
    assert agent.totp_secret == secret and totp.needs_code(agent)
    assert agent.totp_last_step == int(NOW // 30)  # the enrolment code is used up
    assert not totp.check_code(session, agent, pyotp.TOTP(secret).at(NOW), now=NOW)
    audit = session.execute(select(StaffAudit.action)).scalars().all()
    assert audit == ["totp_enrolled"]


def test_codes_of_the_next_and_last_step_work_once_and_older_ones_not(session) -> None:  # type: ignore[no-untyped-def]
    agent = _agent(session)
    secret = totp.new_secret()
    agent.totp_secret = secret
    code = pyotp.TOTP(secret)
    assert not totp.check_code(session, agent, code.at(NOW - 60), now=NOW)  # two steps old: outside the window
    assert not totp.check_code(session, agent, code.at(NOW + 60), now=NOW)
    assert not totp.check_code(session, agent, "12345", now=NOW) and not totp.check_code(session, agent, "", now=NOW)
    assert totp.check_code(session, agent, code.at(NOW - 30), now=NOW)  # the step before: clocks drift
    assert not totp.check_code(session, agent, code.at(NOW - 30), now=NOW)  # replayed
    assert totp.check_code(session, agent, " ".join([code.at(NOW)[:3], code.at(NOW)[3:]]), now=NOW)  # "123 456"
    assert not totp.check_code(session, agent, code.at(NOW), now=NOW + 5)  # replayed within the same step
    assert not totp.check_code(session, agent, code.at(NOW - 30), now=NOW + 10)  # an older step after a newer one
    assert totp.check_code(session, agent, code.at(NOW + 30), now=NOW + 10)


def test_wrong_codes_count_in_the_login_throttle_and_a_throttled_address_is_refused() -> None:
    clock = [NOW]
    throttle = LoginThrottle(clock=lambda: clock[0], free_per_name=5, free_per_address=5)
    secret = totp.new_secret()
    wrong = "000000" if pyotp.TOTP(secret).at(NOW) != "000000" else "111111"
    for _ in range(5):  # what the code step does with a wrong code
        throttle.check("weber", "addr-1")
        assert totp.matching_step(secret, wrong, clock[0]) is None
        throttle.failed("weber", "addr-1")
        clock[0] += 1.1  # the throttle lets one attempt a second through for a name with failures
    clock[0] -= 1.1
    with pytest.raises(LoginThrottled) as refused:  # even the right code is not looked at now
        throttle.check("weber", "addr-1")
    assert refused.value.retry_after == 1
    with pytest.raises(LoginThrottled):  # another account's code from the same address waits too
        throttle.check("schulz", "addr-1")
    throttle.check("schulz", "addr-2")
    clock[0] += 1.5
    throttle.check("weber", "addr-1")
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(clock[0]), clock[0]) == int(clock[0] // 30)


def test_reset_removes_the_factor_ends_sessions_and_is_audited(session) -> None:  # type: ignore[no-untyped-def]
    from bot.staff.auth import agent_for_token, start_session

    agent = _agent(session)
    agent.totp_secret, agent.totp_last_step = totp.new_secret(), 5
    session.commit()
    token, _ = start_session(session, agent, 60)
    totp.reset(session, "Weber", "cli:admin")
    assert agent.totp_secret is None and agent.totp_last_step is None
    assert agent_for_token(session, token) is None
    row = session.execute(select(StaffAudit)).scalars().one()
    assert (row.actor, row.action, row.target, row.detail) == ("cli:admin", "totp_reset", "weber",
                                                              {"sessions_ended": 1})


def test_reset_totp_on_the_command_line(isolated_settings: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main
    from bot.config.settings import get_settings
    from bot.db.engine import make_engine, session_factory

    get_settings().home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(get_settings().resolved_database_url)
    with session_factory(engine)() as db:
        agent = _agent(db, "schulz")
        agent.totp_secret = totp.new_secret()
        db.commit()
    assert main(["agent", "reset-totp", "schulz"]) == 0
    assert "second factor of schulz removed" in capsys.readouterr().out
    assert main(["agent", "reset-totp", "niemand"]) == 2
    with session_factory(engine)() as db:
        assert db.execute(select(StaffAudit.action)).scalars().all() == ["totp_reset"]
    engine.dispose()
