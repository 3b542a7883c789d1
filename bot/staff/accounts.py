"""The life of a staff account: create, change, disable, enable, new password, end its sessions, remove.

Each change is written to ``staff_audit`` (who, when, what, whose account; never a password). Used by
``auskunft agent ...`` (:mod:`bot.staff.cli`) and by the managers' page ``/inbox/accounts``. A disabled account
cannot log in and its open sessions stop working at once (:func:`bot.staff.auth.authenticate` and
:func:`bot.staff.auth.agent_for_token` check ``active``; disabling also deletes the sessions). The last active
manager cannot be disabled, removed or lose the manager role, and nobody can disable or remove their own account,
so that someone is always left who can manage the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.errors import AuskunftError
from bot.staff.auth import USERNAME, create_agent, get_agent, normalise_username
from bot.staff.models import Agent, AgentSession, StaffAudit
from bot.staff.passwords import MAX_LENGTH, MIN_LENGTH, hash_password
from bot.tickets.departments import Departments
from bot.tickets.models import utcnow

ROLES = ("manager", "editor")


class Keep:
    """The agencies argument of :func:`update` that leaves an account's agencies as they are."""


KEEP = Keep()
AUDIT_LIMIT = 50


class AccountError(AuskunftError, ValueError):
    """A change that is refused; ``field`` names the form field at fault, ``code`` the reason (for translations).

    Args:
        message: what is wrong and what to do instead (English, for the command line and logs).
        field: ``username``, ``display_name``, ``password``, ``departments``, ``roles`` or ``""`` (the account).
        code: a short key for the reason, e.g. ``unknown_department``.
    """

    def __init__(self, message: str, field: str = "", code: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.code = code or field or "invalid"


class UnknownAgent(AccountError):
    """No account has this user name."""


@dataclass(frozen=True)
class AccountRow:
    """One account as the overview shows it."""

    agent: Agent
    open_sessions: int

    @property
    def roles(self) -> List[str]:
        """``manager`` and/or ``editor``."""
        return roles_of(self.agent)


def roles_of(agent: Agent) -> List[str]:
    """The roles of an agent (``manager``, ``editor``) in the order of :data:`ROLES`."""
    return [role for role, held in (("manager", agent.is_manager), ("editor", agent.is_editor)) if held]


def find(session: Session, username: str) -> Agent:
    """The account with this user name.

    Raises:
        UnknownAgent: there is none.
    """
    agent = get_agent(session, username)
    if agent is None:
        raise UnknownAgent(f"no agent {normalise_username(username)!r}; see 'auskunft agent list'", "username",
                           "unknown")
    return agent


def record(session: Session, actor: str, action: str, target: str, detail: Optional[Dict[str, Any]] = None) -> None:
    """Add an audit row (committed with the change it describes)."""
    session.add(StaffAudit(at=utcnow(), actor=actor[:80], action=action, target=target[:40], detail=detail))


def audit_log(session: Session, limit: int = AUDIT_LIMIT) -> List[StaffAudit]:
    """The latest account changes, newest first (changes to canned replies have their own list)."""
    query = (select(StaffAudit).where(StaffAudit.action.notlike("canned\\_%", escape="\\"))
             .order_by(StaffAudit.at.desc(), StaffAudit.id.desc()).limit(limit))
    return list(session.execute(query).scalars())


def overview(session: Session) -> List[AccountRow]:
    """Every account by user name, with the number of its unexpired sessions."""
    counts = dict(session.execute(select(AgentSession.agent_id, func.count(AgentSession.id))
                                  .where(AgentSession.expires_at > utcnow()).group_by(AgentSession.agent_id)).all())
    agents = session.execute(select(Agent).order_by(Agent.username)).scalars()
    return [AccountRow(agent, int(counts.get(agent.id, 0))) for agent in agents]


def check_username(username: str) -> str:
    """The user name in lowercase. Raises AccountError if it is not 3 to 40 of ``a-z 0-9 . _ -``."""
    name = normalise_username(username)
    if not USERNAME.match(name):
        raise AccountError(f"user name {username!r}: 3 to 40 characters of a-z, 0-9, '.', '_' and '-'", "username")
    return name


def check_display_name(display_name: str) -> str:
    """The display name without surrounding spaces. Raises AccountError unless it has 1 to 120 characters."""
    display = (display_name or "").strip()
    if not display or len(display) > 120:
        raise AccountError("display name: 1 to 120 characters, e.g. 'Frau Weber'", "display_name")
    return display


def check_password(password: str) -> None:
    """Raises AccountError for a password shorter than 12 or longer than 1024 characters."""
    if len(password or "") < MIN_LENGTH:
        raise AccountError(f"the password needs at least {MIN_LENGTH} characters", "password", "password_short")
    if len(password) > MAX_LENGTH:
        raise AccountError(f"the password may have at most {MAX_LENGTH} characters", "password", "password_long")


def check_departments(keys: Iterable[str], known: Departments) -> List[str]:
    """The department keys without repeats. Raises AccountError for a key not in ``departments.yml``."""
    checked: List[str] = []
    for key in keys:
        if key not in known.by_key:
            raise AccountError(f"unknown department {key!r}; one of {', '.join(known.keys())}", "departments",
                               "unknown_department")
        if key not in checked:
            checked.append(key)
    return checked


def check_roles(roles: Iterable[str]) -> List[str]:
    """The roles in the order of :data:`ROLES`. Raises AccountError for another role."""
    given = set(roles)
    if given - set(ROLES):
        raise AccountError(f"unknown role {sorted(given - set(ROLES))[0]!r}; roles: {', '.join(ROLES)}", "roles")
    return [role for role in ROLES if role in given]


def _needs_work(departments: Sequence[str], roles: Sequence[str]) -> None:
    if not departments and not roles:
        raise AccountError("an agent needs at least one department (or is a manager or an editor)", "departments",
                           "no_department")


def _other_active_managers(session: Session, agent: Agent) -> int:
    return int(session.execute(select(func.count(Agent.id)).where(Agent.is_manager.is_(True), Agent.active.is_(True),
                                                                  Agent.id != agent.id)).scalar_one())


def _keep_a_manager(session: Session, agent: Agent, what: str) -> None:
    if agent.is_manager and agent.active and _other_active_managers(session, agent) == 0:
        raise AccountError(f"{agent.username!r} is the last active manager and cannot be {what}; make another "
                           "agent manager first", "roles" if what == "demoted" else "", "last_manager")


def _not_yourself(agent: Agent, actor: str, what: str) -> None:
    if agent.username == actor:
        raise AccountError(f"you cannot {what} your own account; ask another manager", "", "yourself")


def end_sessions(session: Session, agent: Agent) -> int:
    """End every login of ``agent`` (delete its sessions); how many there were."""
    result = session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))
    return int(result.rowcount or 0)


def create(session: Session, username: str, display_name: str, password: str, departments: Iterable[str],
           roles: Iterable[str], actor: str, known: Departments, agencies: Optional[Sequence[str]] = None) -> Agent:
    """Create an account (as :func:`bot.staff.auth.create_agent`) and record who did it.

    ``agencies`` is the result of :func:`bot.staff.agency_scope.check_agencies` (None: every agency).

    Raises:
        AccountError: an invalid field (``field`` names it) or the user name is taken.
    """
    name = check_username(username)
    display = check_display_name(display_name)
    keys = check_departments(departments, known)
    checked_roles = check_roles(roles)
    _needs_work(keys, checked_roles)
    check_password(password)
    if get_agent(session, name) is not None:
        raise AccountError(f"agent {name!r} exists already; choose another user name", "username", "taken")
    agent = create_agent(session, name, display, password, keys, is_manager="manager" in checked_roles, known=known,
                         is_editor="editor" in checked_roles, agencies=agencies)
    detail: Dict[str, Any] = {"departments": keys, "roles": checked_roles}
    if agent.agencies is not None:
        detail["agencies"] = agent.agencies
    record(session, actor, "created", agent.username, detail)
    session.commit()
    return agent


def update(session: Session, username: str, actor: str, known: Departments, display_name: Optional[str] = None,
           departments: Optional[Iterable[str]] = None, roles: Optional[Iterable[str]] = None,
           agencies: Union[Sequence[str], None, Keep] = KEEP) -> Agent:
    """Change the display name, departments, roles and/or agencies; nothing is saved on an error.

    None (``KEEP`` for ``agencies``) leaves a field as it is; ``agencies`` comes checked by
    :func:`bot.staff.agency_scope.check_agencies` (None there: every agency).

    Raises:
        UnknownAgent: no such account.
        AccountError: an invalid field, or the last active manager would lose the role.
    """
    agent = find(session, username)
    display = check_display_name(display_name) if display_name is not None else agent.display_name
    keys = check_departments(departments, known) if departments is not None else list(agent.departments or [])
    new_roles = check_roles(roles) if roles is not None else roles_of(agent)
    _needs_work(keys, new_roles)
    if "manager" not in new_roles:
        _keep_a_manager(session, agent, "demoted")
    changed: Dict[str, Any] = {}
    if display != agent.display_name:
        changed["display_name"] = "changed"  # the name itself stays in the account, not in the log
    if keys != list(agent.departments or []):
        changed["departments"] = keys
    if new_roles != roles_of(agent):
        changed["roles"] = new_roles
    if not isinstance(agencies, Keep) and (None if agencies is None else list(agencies)) != agent.agencies:
        changed["agencies"] = agent.agencies = None if agencies is None else list(agencies)
    if changed:
        agent.display_name, agent.departments = display, keys
        agent.is_manager, agent.is_editor = "manager" in new_roles, "editor" in new_roles
        record(session, actor, "updated", agent.username, changed)
        session.commit()
    return agent


def disable(session: Session, username: str, actor: str) -> Agent:
    """Disable an account: it can no longer log in, and its sessions end now.

    Raises:
        UnknownAgent: no such account.
        AccountError: it is the actor's own account or the last active manager.
    """
    agent = find(session, username)
    _not_yourself(agent, actor, "disable")
    if agent.active:
        _keep_a_manager(session, agent, "disabled")
        agent.active = False
        ended = end_sessions(session, agent)
        record(session, actor, "disabled", agent.username, {"sessions_ended": ended})
        session.commit()
    return agent


def enable(session: Session, username: str, actor: str) -> Agent:
    """Let a disabled account log in again (with its old password; reset it if that may be known to others).

    Raises:
        UnknownAgent: no such account.
    """
    agent = find(session, username)
    if not agent.active:
        agent.active = True
        record(session, actor, "enabled", agent.username)
        session.commit()
    return agent


def reset_password(session: Session, username: str, password: str, actor: str) -> Agent:
    """Set a new password and end every session of the account (it must log in again).

    Raises:
        UnknownAgent: no such account.
        AccountError: the password is too short or too long (``field`` is ``password``).
    """
    agent = find(session, username)
    check_password(password)
    agent.password_hash = hash_password(password)
    ended = end_sessions(session, agent)
    record(session, actor, "password_reset", agent.username, {"sessions_ended": ended})
    session.commit()
    return agent


def revoke_sessions(session: Session, username: str, actor: str) -> int:
    """Log the account out everywhere; returns how many sessions ended.

    Raises:
        UnknownAgent: no such account.
    """
    agent = find(session, username)
    ended = end_sessions(session, agent)
    record(session, actor, "sessions_revoked", agent.username, {"sessions_ended": ended})
    session.commit()
    return ended


def remove(session: Session, username: str, actor: str) -> None:
    """Delete an account and its sessions (tickets and history keep the user name as written).

    Raises:
        UnknownAgent: no such account.
        AccountError: it is the actor's own account or the last active manager.
    """
    agent = find(session, username)
    _not_yourself(agent, actor, "remove")
    _keep_a_manager(session, agent, "removed")
    end_sessions(session, agent)
    record(session, actor, "removed", agent.username)
    session.delete(agent)
    session.commit()
