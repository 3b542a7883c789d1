"""``auskunft agent add|list``: manage the staff logins of the inbox."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any, Optional

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


def cmd_agent_add(args: argparse.Namespace) -> int:
    """Create an agent; the password is never printed or logged."""
    from bot.config.settings import get_settings
    from bot.staff.auth import create_agent
    from bot.tickets.departments import Departments

    settings = get_settings()
    try:
        departments = Departments.load(settings.departments_file)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    password = _read_password()
    if password is None:
        print("error: the two passwords differ; nothing was created", file=sys.stderr)
        return 1
    engine, session = _open(settings)
    try:
        agent = create_agent(session, args.username, args.name, password, args.departments,
                             is_manager=args.manager, known=departments, is_editor=args.editor)
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
    print(f"agent {agent.username} ({agent.display_name}) created: {scope}")
    return 0


def cmd_agent_list(args: argparse.Namespace) -> int:
    """Print all agents with their departments."""
    from bot.config.settings import get_settings
    from bot.staff.auth import list_agents

    engine, session = _open(get_settings())
    try:
        agents = list_agents(session)
        for agent in agents:
            roles = ["manager"] if agent.is_manager else ["agent"] if agent.departments else []
            role = "+".join(roles + (["editor"] if agent.is_editor else [])) or "agent"
            state = "" if agent.active else "  (inactive)"
            print(f"{agent.username:<20} {agent.display_name:<30} {role:<14} "
                  f"{','.join(agent.departments or []) or '-'}{state}")
        if not agents:
            print("no agents yet; create one with: auskunft agent add USERNAME --name NAME --department KEY")
    finally:
        session.close()
        engine.dispose()
    return 0


def register(subparsers: Any) -> None:
    """Add the ``agent`` command to the ``auskunft`` parser's sub-commands."""
    agent = subparsers.add_parser("agent", help="staff logins of the inbox").add_subparsers(dest="action",
                                                                                           required=True)
    add = agent.add_parser("add", help=f"create an agent (password from ${PASSWORD_ENV} or asked twice)")
    add.add_argument("username", help="login name: 3-40 of a-z 0-9 . _ -")
    add.add_argument("--name", required=True, help='display name, e.g. "Frau Weber"')
    add.add_argument("--department", dest="departments", action="append", default=[], metavar="KEY",
                     help="a department key from departments.yml (repeat for several)")
    add.add_argument("--manager", action="store_true", help="sees all departments and their analytics")
    add.add_argument("--editor", action="store_true", help="content editor: preview, kb check and FAQ analytics "
                     "at /inbox/editor (needs no department)")
    add.set_defaults(func=cmd_agent_add)
    listing = agent.add_parser("list", help="show all agents")
    listing.set_defaults(func=cmd_agent_list)
