"""``auskunft agent add|list|disable|enable|reset-password|reset-totp|revoke-sessions|remove``: the inbox logins.

Exit codes: 0 done; 1 refused (invalid input, the passwords differ, the last manager, not confirmed); 2 no such
agent (or another error that says what to do). Every change is recorded in ``staff_audit`` with the system user
as ``cli:<user>`` (see :mod:`bot.staff.accounts`); passwords are never printed or logged.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any, Callable, Optional

PASSWORD_ENV = "AUSKUNFT_AGENT_PASSWORD"  # noqa: S105 - the name of an environment variable


def _read_password() -> Optional[str]:
    """The new password from ``AUSKUNFT_AGENT_PASSWORD``, else asked twice without echo (None: no match)."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    first = getpass.getpass("Passwort (mindestens 12 Zeichen): ")
    second = getpass.getpass("Passwort wiederholen: ")
    return first if first == second else None


def _open(settings: Any):  # type: ignore[no-untyped-def]
    from bot.db.engine import make_engine, session_factory

    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    return engine, session_factory(engine)()


def actor() -> str:
    """Who acts on the command line, for the audit log: ``cli:<system user>``."""
    try:
        return f"cli:{getpass.getuser()}"[:80]
    except (OSError, KeyError, ImportError):
        return "cli"


def cmd_agent_add(args: argparse.Namespace) -> int:
    """Create an agent; the password is never printed or logged."""
    from bot.config.settings import get_settings
    from bot.staff.accounts import create
    from bot.staff.agency_scope import check_agencies
    from bot.tickets.departments import Departments

    settings = get_settings()
    try:
        departments = Departments.load(settings.departments_file)
        agencies = check_agencies(args.agencies, [a.key for a in settings.agencies()], args.all_agencies)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    password = _read_password()
    if password is None:
        print("error: the two passwords differ; nothing was created", file=sys.stderr)
        return 1
    engine, session = _open(settings)
    try:
        roles = (["manager"] if args.manager else []) + (["editor"] if args.editor else [])
        agent = create(session, args.username, args.name, password, args.departments, roles, actor(), departments,
                       agencies)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        session.close()
        engine.dispose()
    scope = "all departments (manager)" if agent.is_manager else ", ".join(departments.name(k)
                                                                            for k in agent.departments)
    if agent.is_editor:
        scope = f"{scope}, editor" if scope else "editor"
    where = "" if agencies is None else f" for {', '.join(agencies)}"
    print(f"agent {agent.username} ({agent.display_name}) created{where}: {scope}")
    return 0


def cmd_agent_list(args: argparse.Namespace) -> int:
    """Print all agents with their departments."""
    from bot.config.settings import get_settings
    from bot.staff.auth import list_agents

    settings = get_settings()
    several = len(settings.agencies()) > 1  # then each line ends with the account's agencies
    engine, session = _open(settings)
    try:
        agents = list_agents(session)
        for agent in agents:
            roles = ["manager"] if agent.is_manager else ["agent"] if agent.departments else []
            role = "+".join(roles + (["editor"] if agent.is_editor else [])) or "agent"
            state = "" if agent.active else "  (inactive)"
            where = "all agencies" if agent.agencies is None else ",".join(agent.agencies) or "no agency"
            print(f"{agent.username:<20} {agent.display_name:<30} {role:<14} "
                  f"{','.join(agent.departments or []) or '-'}{f'  [{where}]' if several else ''}{state}")
        if not agents:
            print("no agents yet; create one with: auskunft agent add USERNAME --name NAME --department KEY")
    finally:
        session.close()
        engine.dispose()
    return 0


def _change(args: argparse.Namespace, change: Callable[[Any, str], str]) -> int:
    """Open the database, apply ``change(session, username)`` and print what it returns; errors as exit codes."""
    from bot.config.settings import get_settings
    from bot.staff.accounts import AccountError, UnknownAgent

    engine, session = _open(get_settings())
    try:
        print(change(session, args.username))
    except UnknownAgent as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except AccountError as err:
        print(f"error: {err}; nothing was changed", file=sys.stderr)
        return 1
    finally:
        session.close()
        engine.dispose()
    return 0


def cmd_agent_disable(args: argparse.Namespace) -> int:
    """Disable an agent: no more logins, open sessions end now."""
    from bot.staff.accounts import disable

    def change(session: Any, username: str) -> str:
        agent = disable(session, username, actor())
        return f"agent {agent.username} disabled; their sessions have ended (enable again: auskunft agent enable)"

    return _change(args, change)


def cmd_agent_enable(args: argparse.Namespace) -> int:
    """Let a disabled agent log in again."""
    from bot.staff.accounts import enable

    def change(session: Any, username: str) -> str:
        agent = enable(session, username, actor())
        return f"agent {agent.username} enabled; they log in with their old password (or: auskunft agent " \
               "reset-password)"

    return _change(args, change)


def cmd_agent_reset_password(args: argparse.Namespace) -> int:
    """Set a new password (read like ``add`` does) and end the agent's sessions."""
    from bot.staff.accounts import reset_password

    password = _read_password()
    if password is None:
        print("error: the two passwords differ; nothing was changed", file=sys.stderr)
        return 1

    def change(session: Any, username: str) -> str:
        agent = reset_password(session, username, password, actor())
        return f"password of {agent.username} changed; their sessions have ended"

    return _change(args, change)


def cmd_agent_reset_totp(args: argparse.Namespace) -> int:
    """Remove an agent's second factor (a lost phone) and end their sessions."""
    from bot.staff.totp import reset

    def change(session: Any, username: str) -> str:
        agent = reset(session, username, actor())
        return f"second factor of {agent.username} removed; their sessions have ended (they set up a new one at " \
               "/inbox/zwei-faktor, or at their next login when AUSKUNFT_TOTP_REQUIRED=true)"

    return _change(args, change)


def cmd_agent_revoke_sessions(args: argparse.Namespace) -> int:
    """Log an agent out everywhere."""
    from bot.staff.accounts import revoke_sessions

    def change(session: Any, username: str) -> str:
        ended = revoke_sessions(session, username, actor())
        return f"{ended} session(s) of {username.strip().lower()} ended"

    return _change(args, change)


def cmd_agent_remove(args: argparse.Namespace) -> int:
    """Delete an agent after confirmation (``--yes``, or typing the user name when asked)."""
    from bot.staff.accounts import AccountError, find, remove

    def change(session: Any, username: str) -> str:
        name = find(session, username).username  # an unknown name fails before the question
        if not args.yes:
            try:
                typed = input(f"Remove agent {name!r} for good? Type the user name to confirm: ")
            except EOFError:
                typed = ""
            if typed.strip().lower() != name:
                raise AccountError("not confirmed (type the user name, or add --yes to skip the question)")
        remove(session, name, actor())
        return f"agent {name} removed (tickets keep the user name in their history)"

    return _change(args, change)


def register(subparsers: Any) -> None:
    """Add the ``agent`` command to the ``auskunft`` parser's sub-commands."""
    agent = subparsers.add_parser("agent", help="staff logins of the inbox").add_subparsers(dest="action",
                                                                                           required=True)
    add = agent.add_parser("add", help=f"create an agent (password from ${PASSWORD_ENV} or asked twice)")
    add.add_argument("username", help="login name: 3-40 of a-z 0-9 . _ -")
    add.add_argument("--name", required=True, help='display name, e.g. "Frau Weber"')
    add.add_argument("--department", dest="departments", action="append", default=[], metavar="KEY",
                     help="a department key from departments.yml (repeat for several)")
    add.add_argument("--agency", dest="agencies", action="append", default=[], metavar="KEY",
                     help="an agency of agencies.yml whose tickets, figures and kb the account sees (repeatable; "
                          "required where the deployment serves several agencies)")
    add.add_argument("--all-agencies", action="store_true",
                     help="every agency: only for the deployment's own administrators (several agencies)")
    add.add_argument("--manager", action="store_true", help="sees all departments and their analytics")
    add.add_argument("--editor", action="store_true", help="content editor: preview, kb check and FAQ analytics "
                     "at /inbox/editor (needs no department)")
    add.set_defaults(func=cmd_agent_add)
    listing = agent.add_parser("list", help="show all agents")
    listing.set_defaults(func=cmd_agent_list)
    for name, func, text in (("disable", cmd_agent_disable, "disable an agent: no logins, sessions end now"),
                             ("enable", cmd_agent_enable, "let a disabled agent log in again"),
                             ("reset-password", cmd_agent_reset_password,
                              f"set a new password (from ${PASSWORD_ENV} or asked twice); sessions end"),
                             ("reset-totp", cmd_agent_reset_totp,
                              "remove an agent's second factor (lost phone); sessions end"),
                             ("revoke-sessions", cmd_agent_revoke_sessions, "log an agent out everywhere"),
                             ("remove", cmd_agent_remove, "delete an agent (asks to confirm)")):
        command = agent.add_parser(name, help=text)
        command.add_argument("username", help="the agent's login name")
        if name == "remove":
            command.add_argument("--yes", action="store_true", help="do not ask to confirm")
        command.set_defaults(func=func)
