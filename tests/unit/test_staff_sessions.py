"""Inbox login sessions: the absolute lifetime, the idle timeout and how often a session's end is written."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bot.staff import auth
from bot.staff.models import Agent, AgentSession
from bot.tickets.departments import Departments

START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


class Now:
    """``utcnow`` for bot.staff.auth, moved by the test."""

    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Now:
    clock = Now()
    monkeypatch.setattr(auth, "utcnow", clock)
    return clock


@pytest.fixture
def weber(session: Session) -> Agent:
    known = Departments.load(Path(__file__).resolve().parents[2] / "departments.yml")
    return auth.create_agent(session, "weber", "Frau Weber", "ein-langes-passwort-123", [], is_manager=True,
                             known=known)


def ends(session: Session) -> datetime:
    session.expire_all()
    return auth.aware(session.execute(select(AgentSession)).scalar_one().expires_at)


def test_a_session_without_requests_ends_after_the_idle_time(session: Session, weber: Agent, now: Now) -> None:
    token, _ = auth.start_session(session, weber, 480, idle_minutes=30)
    assert ends(session) == START + timedelta(minutes=30)
    now.at += timedelta(minutes=29)
    assert auth.agent_for_token(session, token, 30, 480) is not None
    now.at += timedelta(minutes=29)  # 29 minutes after that request: still on, the request moved the end
    assert auth.agent_for_token(session, token, 30, 480) is not None
    now.at += timedelta(minutes=31)
    assert auth.agent_for_token(session, token, 30, 480) is None
    assert session.execute(select(AgentSession)).first() is None  # an ended session is deleted


def test_the_end_is_written_at_most_once_a_minute(session: Session, weber: Agent, now: Now) -> None:
    token, _ = auth.start_session(session, weber, 480, idle_minutes=30)
    updates: List[str] = []
    event.listen(session.get_bind(), "before_cursor_execute",
                 lambda conn, cursor, statement, *args: updates.append(statement) if statement.startswith(
                     "UPDATE agent_sessions") else None)
    for _ in range(12):  # a request every 5 s for a minute
        now.at += timedelta(seconds=5)
        assert auth.agent_for_token(session, token, 30, 480) is not None
    assert len(updates) == 1 and ends(session) == START + timedelta(minutes=31)


def test_sliding_never_passes_the_absolute_lifetime(session: Session, weber: Agent, now: Now) -> None:
    token, _ = auth.start_session(session, weber, 60, idle_minutes=30)
    for _ in range(5):  # busy for 50 minutes, a request every 10 minutes
        now.at += timedelta(minutes=10)
        assert auth.agent_for_token(session, token, 30, 60) is not None
    assert ends(session) == START + timedelta(minutes=60)
    now.at = START + timedelta(minutes=60)
    assert auth.agent_for_token(session, token, 30, 60) is None


def test_without_an_idle_time_only_the_lifetime_counts(session: Session, weber: Agent, now: Now) -> None:
    token, _ = auth.start_session(session, weber, 480)
    assert ends(session) == START + timedelta(minutes=480)
    now.at += timedelta(minutes=479)
    assert auth.agent_for_token(session, token) is not None and ends(session) == START + timedelta(minutes=480)
    now.at += timedelta(minutes=1)
    assert auth.agent_for_token(session, token) is None
