"""Agents, logins and login sessions of the inbox.

Login throttling is kept **in memory, per process** (:class:`LoginThrottle`): after 5 failed
attempts for one user name within 15 minutes, further attempts for that name are refused for
15 minutes. With several web workers each counts on its own (an attacker gets at most
5 × workers tries per 15 minutes); a restart forgets the counts.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.errors import AuskunftError
from bot.staff.models import Agent, AgentSession
from bot.staff.passwords import check_password_policy, hash_password, needs_rehash, verify_password
from bot.tickets.departments import Departments
from bot.tickets.models import utcnow

USERNAME = re.compile(r"^[a-z0-9._-]{3,40}$")
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)


class LoginThrottled(AuskunftError):
    """Too many failed attempts for this user name; ``retry_after`` seconds until the next try."""

    def __init__(self, username: str, retry_after: int) -> None:
        super().__init__(f"too many failed logins for {username!r}; try again in {retry_after} s")
        self.retry_after = retry_after


def aware(moment: datetime) -> datetime:
    """A datetime from the database as UTC-aware (SQLite returns naive values)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


class LoginThrottle:
    """Failed logins per user name, in this process's memory (thread-safe)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: timedelta = WINDOW,
                 lockout: timedelta = LOCKOUT) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self._failures: Dict[str, List[datetime]] = {}
        self._blocked: Dict[str, datetime] = {}
        self._lock = threading.Lock()

    def check(self, username: str, now: Optional[datetime] = None) -> None:
        """Raise :class:`LoginThrottled` while ``username`` is locked out."""
        now = now or utcnow()
        with self._lock:
            until = self._blocked.get(username)
            if until is not None and until > now:
                raise LoginThrottled(username, max(1, int((until - now).total_seconds())))

    def failed(self, username: str, now: Optional[datetime] = None) -> None:
        """Count a failed attempt; the fifth within the window locks the name out."""
        now = now or utcnow()
        with self._lock:
            recent = [t for t in self._failures.get(username, []) if now - t < self.window]
            recent.append(now)
            self._failures[username] = recent
            if len(recent) >= self.max_failures:
                self._blocked[username] = now + self.lockout
                self._failures[username] = []
            if len(self._failures) > 10_000:  # many names tried: forget what no longer counts
                self._prune(now)

    def succeeded(self, username: str) -> None:
        """A successful login clears the name's failures."""
        with self._lock:
            self._failures.pop(username, None)
            self._blocked.pop(username, None)

    def _prune(self, now: datetime) -> None:
        self._failures = {k: v for k, v in self._failures.items() if v and now - v[-1] < self.window}
        self._blocked = {k: v for k, v in self._blocked.items() if v > now}


def normalise_username(username: str) -> str:
    """User names are compared in lowercase without surrounding spaces."""
    return (username or "").strip().lower()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified when the user name is unknown, so both cases take the same time."""
    return hash_password(secrets.token_urlsafe(16))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def get_agent(session: Session, username: str) -> Optional[Agent]:
    """The agent with this user name, if any."""
    return session.execute(select(Agent).where(Agent.username == normalise_username(username))).scalar_one_or_none()


def list_agents(session: Session) -> List[Agent]:
    """All agents by user name."""
    return list(session.execute(select(Agent).order_by(Agent.username)).scalars())


def create_agent(session: Session, username: str, display_name: str, password: str, departments: Iterable[str],
                 is_manager: bool = False, known: Optional[Departments] = None, is_editor: bool = False) -> Agent:
    """Create an agent.

    Args:
        session: the database session.
        username: 3–40 characters of ``a-z 0-9 . _ -`` (stored in lowercase).
        display_name: shown to colleagues and, with the department, to citizens in replies.
        password: at least 12 characters; only its scrypt hash is stored.
        departments: keys of the departments whose queues the agent works on.
        is_manager: sees all departments and their analytics.
        known: the valid departments (default: the configured ``departments.yml``).
        is_editor: sees the editor pages (preview, kb check, analytics); an editor needs no department.

    Raises:
        ValueError: invalid user name, display name, password or department (the message names it),
            or the user name exists already.
    """
    name = normalise_username(username)
    if not USERNAME.match(name):
        raise ValueError(f"user name {username!r}: 3 to 40 characters of a-z, 0-9, '.', '_' and '-'")
    display = (display_name or "").strip()
    if not display or len(display) > 120:
        raise ValueError("display name: 1 to 120 characters, e.g. 'Frau Weber'")
    if known is None:
        from bot.config.settings import get_settings

        known = Departments.load(get_settings().departments_file)
    keys: List[str] = []
    for key in departments:
        if key not in known.by_key:
            raise ValueError(f"unknown department {key!r}; one of {', '.join(known.keys())}")
        if key not in keys:
            keys.append(key)
    if not keys and not is_manager and not is_editor:
        raise ValueError("an agent needs at least one department (or is a manager or an editor)")
    check_password_policy(password)
    if get_agent(session, name) is not None:
        raise ValueError(f"agent {name!r} exists already")
    agent = Agent(username=name, display_name=display, password_hash=hash_password(password), departments=keys,
                  is_manager=bool(is_manager), is_editor=bool(is_editor), active=True)
    session.add(agent)
    session.commit()
    return agent


def authenticate(session: Session, username: str, password: str,
                 throttle: Optional[LoginThrottle] = None) -> Optional[Agent]:
    """The active agent with these credentials, else None (same work whether the name exists or not).

    Raises:
        LoginThrottled: too many failed attempts for this user name recently (nothing is checked).
    """
    name = normalise_username(username)
    throttle = throttle if throttle is not None else DEFAULT_THROTTLE
    throttle.check(name)
    agent = get_agent(session, name) if USERNAME.match(name) else None
    valid = verify_password(password, agent.password_hash if agent is not None else _dummy_hash())
    if agent is None or not valid or not agent.active:
        throttle.failed(name)
        return None
    throttle.succeeded(name)
    if needs_rehash(agent.password_hash):
        agent.password_hash = hash_password(password)
        session.commit()
    return agent


def start_session(session: Session, agent: Agent, minutes: int) -> Tuple[str, AgentSession]:
    """Log an agent in for ``minutes``; returns the cookie token (stored only as its hash) and the session."""
    now = utcnow()
    session.execute(delete(AgentSession).where(AgentSession.expires_at <= now))  # tidy up old logins
    token = secrets.token_urlsafe(32)
    row = AgentSession(token_hash=_token_hash(token), agent_id=agent.id, csrf_token=secrets.token_urlsafe(32),
                       created_at=now, expires_at=now + timedelta(minutes=minutes))
    session.add(row)
    session.commit()
    return token, row


def agent_for_token(session: Session, token: Optional[str]) -> Optional[Tuple[Agent, AgentSession]]:
    """The active agent and session for a cookie token; expired sessions are deleted and give None."""
    if not token or len(token) > 200:
        return None
    row = session.execute(select(AgentSession).where(AgentSession.token_hash == _token_hash(token))
                          ).scalar_one_or_none()
    if row is None:
        return None
    if aware(row.expires_at) <= utcnow():
        session.delete(row)
        session.commit()
        return None
    agent = row.agent
    if agent is None or not agent.active:
        return None
    return agent, row


def end_session(session: Session, token: Optional[str]) -> None:
    """Log out: delete the session of this cookie token (if any)."""
    if token:
        session.execute(delete(AgentSession).where(AgentSession.token_hash == _token_hash(token)))
        session.commit()


def can_edit(agent: Agent) -> bool:
    """Whether the agent may use the editor pages: editors and managers (NULL counts as no)."""
    return bool(agent.is_editor) or bool(agent.is_manager)


def visible_departments(agent: Agent) -> Optional[Sequence[str]]:
    """The department keys an agent works on; None for a manager (all)."""
    return None if agent.is_manager else list(agent.departments or [])


DEFAULT_THROTTLE = LoginThrottle()
