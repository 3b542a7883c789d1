"""Agents, logins and login sessions of the inbox.

Failed logins are slowed down, never locked out (:mod:`bot.staff.throttle`): after a few free failures each further
attempt for the user name, or from the client address, waits for a delay that doubles up to a minute, counted in the
shared limit store of the citizen limits. A session ends after the absolute lifetime or after a time without requests
(:func:`agent_for_token` slides ``expires_at``, at most once a minute).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.staff.models import Agent, AgentSession
from bot.staff.passwords import check_password_policy, hash_password, needs_rehash, verify_password
from bot.staff.throttle import LoginThrottle
from bot.staff.throttle import LoginThrottled as LoginThrottled  # its home before bot.staff.throttle
from bot.tickets.departments import Departments
from bot.tickets.models import utcnow

USERNAME = re.compile(r"^[a-z0-9._-]{3,40}$")
SLIDE_EVERY = timedelta(minutes=1)
"""A session's ``expires_at`` moves on with the agent's requests, but is written at most this often."""


def aware(moment: datetime) -> datetime:
    """A datetime from the database as UTC-aware (SQLite returns naive values)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


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
                 is_manager: bool = False, known: Optional[Departments] = None, is_editor: bool = False,
                 agencies: Optional[Sequence[str]] = None) -> Agent:
    """Create an agent.

    Args:
        session: the database session.
        username: 3–40 characters of ``a-z 0-9 . _ -`` (stored in lowercase).
        display_name: shown to colleagues and, with the department, to citizens in replies.
        password: at least 12 characters; only its hash is stored (see :mod:`bot.staff.passwords`).
        departments: keys of the departments whose queues the agent works on.
        is_manager: sees all departments and their analytics.
        known: the valid departments (default: the configured ``departments.yml``).
        is_editor: sees the editor pages (preview, kb check, analytics); an editor needs no department.
        agencies: the agency keys the account works for; None = every agency (checked by the caller, see
            :func:`bot.staff.agency_scope.check_agencies`).

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
                  is_manager=bool(is_manager), is_editor=bool(is_editor), active=True,
                  agencies=None if agencies is None else list(agencies))
    session.add(agent)
    session.commit()
    return agent


def authenticate(session: Session, username: str, password: str, throttle: Optional[LoginThrottle] = None,
                 address: str = "") -> Optional[Agent]:
    """The active agent with these credentials, else None (same work whether the name exists or not).

    A stored hash of an older scheme or cost (scrypt) is replaced by today's after a successful check.

    Args:
        session: the database session.
        username: as typed (compared in lowercase).
        password: as typed.
        throttle: the login delays (default: one in this process's memory).
        address: the client's address key (pseudonymised, see :mod:`bot.staff.throttle`); empty = per name only.

    Raises:
        LoginThrottled: an attempt during the delay after repeated failures of this user name or from this
            address (the password is not checked), or too many unknown user names from this address.
    """
    name = normalise_username(username)
    throttle = throttle if throttle is not None else DEFAULT_THROTTLE
    throttle.check(name, address)
    agent = get_agent(session, name) if USERNAME.match(name) else None
    if agent is None:
        throttle.unknown_name(name, address)  # before the (costly) hash of the dummy
    valid = verify_password(password, agent.password_hash if agent is not None else _dummy_hash())
    if agent is None or not valid or not agent.active or agent.external_subject:  # provider accounts: no password
        throttle.failed(name, address)
        return None
    throttle.succeeded(name)
    if needs_rehash(agent.password_hash):
        agent.password_hash = hash_password(password)
        session.commit()
    return agent


def start_session(session: Session, agent: Agent, minutes: int,
                  idle_minutes: Optional[int] = None) -> Tuple[str, AgentSession]:
    """Log an agent in; returns the cookie token (stored only as its hash) and the session.

    Args:
        session: the database session.
        agent: who logs in.
        minutes: the absolute lifetime of the login.
        idle_minutes: the login also ends after this long without a request (None: only the lifetime counts).
    """
    now = utcnow()
    session.execute(delete(AgentSession).where(AgentSession.expires_at <= now))  # tidy up old logins
    token = secrets.token_urlsafe(32)
    first = min(minutes, idle_minutes) if idle_minutes else minutes
    row = AgentSession(token_hash=_token_hash(token), agent_id=agent.id, csrf_token=secrets.token_urlsafe(32),
                       created_at=now, expires_at=now + timedelta(minutes=first))
    session.add(row)
    session.commit()
    return token, row


def agent_for_token(session: Session, token: Optional[str], idle_minutes: Optional[int] = None,
                    lifetime_minutes: Optional[int] = None) -> Optional[Tuple[Agent, AgentSession]]:
    """The active agent and session for a cookie token; expired sessions are deleted and give None.

    With ``idle_minutes``, a request moves the session's end to ``idle_minutes`` from now, never beyond
    ``created_at`` plus ``lifetime_minutes`` (when given); the row is written only when its end moves by a minute
    or more, so an idle session may end up to a minute early.
    """
    if not token or len(token) > 200:
        return None
    row = session.execute(select(AgentSession).where(AgentSession.token_hash == _token_hash(token))
                          ).scalar_one_or_none()
    if row is None:
        return None
    now = utcnow()
    if aware(row.expires_at) <= now:
        session.delete(row)
        session.commit()
        return None
    agent = row.agent
    if agent is None or not agent.active:
        return None
    if idle_minutes:
        _slide(session, row, now, idle_minutes, lifetime_minutes)
    return agent, row


def _slide(session: Session, row: AgentSession, now: datetime, idle_minutes: int,
           lifetime_minutes: Optional[int]) -> None:
    """Move the end of an idle-limited session to ``idle_minutes`` from ``now`` (written at most once a minute)."""
    until = now + timedelta(minutes=idle_minutes)
    if lifetime_minutes:
        until = min(until, aware(row.created_at) + timedelta(minutes=lifetime_minutes))
    if until - aware(row.expires_at) >= SLIDE_EVERY:
        row.expires_at = until
        session.commit()


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
