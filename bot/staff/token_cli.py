"""``auskunft token create|list|rotate|revoke``: the scoped tokens of the ticket, feedback and metrics API.

Exit codes: 0 done; 1 refused (invalid name, scope or agency, the name is taken); 2 no such token. The token is
printed once, on stdout alone (so ``TOKEN=$(auskunft token create ...)`` keeps it), never logged or stored; the
explanation goes to stderr. Every change is recorded in ``staff_audit`` as ``cli:<system user>``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any, Callable, Optional

from bot.staff.cli import actor


def _run(action: Callable[[Any, Any], int]) -> int:
    """Open the ticket database, call ``action(settings, session)``; token errors become exit codes."""
    from bot.config.settings import get_settings
    from bot.db.engine import make_engine, session_factory
    from bot.staff.api_tokens import TokenError, UnknownToken

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    session = session_factory(engine)()
    try:
        return action(settings, session)
    except UnknownToken as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except TokenError as err:
        print(f"error: {err}; nothing was changed", file=sys.stderr)
        return 1
    finally:
        session.close()
        engine.dispose()


def _expiry(days: Optional[float]) -> Any:
    from bot.tickets.models import utcnow

    return utcnow() + timedelta(days=days) if days else None


def cmd_token_create(args: argparse.Namespace) -> int:
    """Create a token and print it once."""
    from bot.staff.api_tokens import create

    def action(settings: Any, session: Any) -> int:
        known = [agency.key for agency in settings.agencies()]
        row, token = create(session, args.name, args.scopes, args.agencies, actor(), known, _expiry(args.expires))
        where = ", ".join(row.agencies) if row.agencies else "all agencies"
        print(f"token {row.name} created: {', '.join(row.scopes)} ({where}). It is shown only now; keep it in a "
              "secret store:", file=sys.stderr)
        print(token)
        return 0

    return _run(action)


def cmd_token_list(args: argparse.Namespace) -> int:
    """Print every token: name, scopes, agencies, state, last use (never the token)."""
    from bot.staff.api_tokens import list_tokens, state

    def action(settings: Any, session: Any) -> int:
        rows = list_tokens(session)
        for row in rows:
            used = row.last_used_at.strftime("%Y-%m-%d %H:%M") if row.last_used_at else "never used"
            print(f"{row.name:<28} {','.join(row.scopes):<44} {','.join(row.agencies or []) or 'all agencies':<16} "
                  f"{state(row):<26} {used}")
        if not rows:
            print("no API tokens yet; create one with: auskunft token create NAME --scope tickets:read")
        return 0

    return _run(action)


def cmd_token_rotate(args: argparse.Namespace) -> int:
    """Replace a token; the old one works for the grace period."""
    from bot.staff.api_tokens import rotate

    def action(settings: Any, session: Any) -> int:
        row, token = rotate(session, args.name, actor(), timedelta(hours=args.grace))
        print(f"token {row.name} rotated; the old token works for {args.grace:g} more hour(s). The new token is "
              "shown only now:", file=sys.stderr)
        print(token)
        return 0

    return _run(action)


def cmd_token_revoke(args: argparse.Namespace) -> int:
    """End a token (and its rotated predecessors) now."""
    from bot.staff.api_tokens import revoke

    def action(settings: Any, session: Any) -> int:
        ended = revoke(session, args.name, actor())
        print(f"token {args.name.strip().lower()} revoked ({ended} token(s) ended now)")
        return 0

    return _run(action)


def register(subparsers: Any) -> None:
    """Add the ``token`` command to the ``auskunft`` parser's sub-commands."""
    from bot.staff.api_tokens import DEFAULT_GRACE, SCOPES

    token = subparsers.add_parser("token", help="scoped tokens of the ticket, feedback and metrics API") \
        .add_subparsers(dest="action", required=True)
    create = token.add_parser("create", help="create a token (printed once on stdout)")
    create.add_argument("name", help="a name for the integration: 3-40 of a-z 0-9 . _ -")
    create.add_argument("--scope", dest="scopes", action="append", default=[], required=True, choices=SCOPES,
                        help="what the token may do (repeat for several)")
    create.add_argument("--agency", dest="agencies", action="append", default=[], metavar="KEY",
                        help="only this agency's tickets (repeat for several; default: all agencies)")
    create.add_argument("--expires", type=float, default=None, metavar="DAYS", help="ends after this many days")
    create.set_defaults(func=cmd_token_create)
    token.add_parser("list", help="show every token (never the token itself)").set_defaults(func=cmd_token_list)
    rotate = token.add_parser("rotate", help="a new token under the same name; the old one works a while longer")
    rotate.add_argument("name")
    rotate.add_argument("--grace", type=float, default=DEFAULT_GRACE.total_seconds() / 3600, metavar="HOURS",
                        help="how long the old token keeps working (default: %(default)g; 0 = ends now)")
    rotate.set_defaults(func=cmd_token_rotate)
    revoke = token.add_parser("revoke", help="end a token and its rotated predecessors now")
    revoke.add_argument("name")
    revoke.set_defaults(func=cmd_token_revoke)
