"""Scoped API tokens: create (shown once), verify, rotate with a grace period, revoke, list.

A token is ``ak_`` and 32 random bytes (URL-safe base64); the table ``api_tokens`` keeps only its SHA-256, so a
leaked table lets nobody in. Each token has a unique name, a set of :data:`SCOPES` and optionally the agencies
whose tickets it may see (``None`` = all). Rotating a token makes a new one under the same name and renames the
old row to ``<name>~<id>`` with an ``expires_at`` at the end of the grace period, so integrations can switch
without downtime; revoking ends the token and its rotated predecessors at once. Every change is recorded in
``staff_audit`` (action ``token_create``, ``token_rotate``, ``token_revoke``; never the token).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import FrozenSet, Iterable, List, Optional, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.errors import AuskunftError
from bot.staff.accounts import record
from bot.staff.auth import aware
from bot.staff.models import ApiToken
from bot.tickets.models import utcnow

SCOPES = ("tickets:create", "feedback:create", "tickets:read", "tickets:write", "feedback:read", "metrics:read")
"""What a token may do: create tickets / record votes (the action server), read / change tickets and reply
(helpdesk integrations), read the votes, scrape ``/metrics``."""
ACTION_SERVER_SCOPES = ("tickets:create", "feedback:create")
PREFIX = "ak_"
RANDOM_BYTES = 32
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
AGENCY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
ROTATED = "~"  # rotated predecessors are named "<name>~<id>" (never a valid name, so never created by hand)
DEFAULT_GRACE = timedelta(hours=24)
LAST_USED_EVERY = timedelta(minutes=1)


class TokenError(AuskunftError, ValueError):
    """A token change that is refused; the message says what to do instead."""


class UnknownToken(TokenError):
    """No active token has this name."""


@dataclass(frozen=True)
class Principal:
    """Who calls the API: a token's name, its scopes and the agencies it may see (``None`` = all)."""

    name: str
    scopes: FrozenSet[str]
    agencies: Optional[FrozenSet[str]] = None

    @property
    def actor(self) -> str:
        """How the ticket history names this caller: ``token:<name>``."""
        return f"token:{self.name}"[:80]

    def allows(self, scope: str) -> bool:
        """Whether the token has ``scope``."""
        return scope in self.scopes

    def sees(self, agency: Optional[str], default: str) -> bool:
        """Whether a ticket of ``agency`` is visible (a ticket without an agency is the ``default`` agency's)."""
        return self.agencies is None or (agency or default) in self.agencies


def hash_token(token: str) -> str:
    """The SHA-256 (hex) that is stored instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh token: ``ak_`` and 32 random bytes."""
    return PREFIX + secrets.token_urlsafe(RANDOM_BYTES)


def base_name(name: str) -> str:
    """The name a token was created under (a rotated predecessor's ``<name>~<id>`` → ``<name>``)."""
    return name.split(ROTATED, 1)[0]


def principal_of(row: ApiToken) -> Principal:
    """The caller a verified token row stands for."""
    agencies = frozenset(row.agencies) if row.agencies is not None else None
    return Principal(base_name(row.name), frozenset(row.scopes or ()), agencies)


def check_scopes(scopes: Iterable[str]) -> List[str]:
    """The scopes, de-duplicated in the order of :data:`SCOPES`. Raises TokenError for an unknown or no scope."""
    wanted = {s.strip().lower() for s in scopes if s.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise TokenError(f"unknown scope {', '.join(unknown)}; choose from {', '.join(SCOPES)}")
    if not wanted:
        raise TokenError(f"a token needs at least one scope (--scope), one of {', '.join(SCOPES)}")
    return [s for s in SCOPES if s in wanted]


def check_agencies(agencies: Optional[Sequence[str]], known: Optional[Iterable[str]] = None) -> Optional[List[str]]:
    """The agency keys (``None`` or empty = all agencies). Raises TokenError for a malformed or unknown key."""
    if not agencies:
        return None
    keys = sorted({a.strip().lower() for a in agencies if a.strip()})
    served = set(known) if known is not None else None
    for key in keys:
        if not AGENCY.match(key) or (served is not None and key not in served):
            choices = f"; this deployment serves {', '.join(sorted(served))}" if served else ""
            raise TokenError(f"unknown agency {key!r}{choices}")
    return keys


def _current(session: Session, name: str) -> Optional[ApiToken]:
    found: Optional[ApiToken] = session.execute(select(ApiToken).where(ApiToken.name == name)).scalar_one_or_none()
    return found


def create(session: Session, name: str, scopes: Iterable[str], agencies: Optional[Sequence[str]], actor: str,
           known_agencies: Optional[Iterable[str]] = None,
           expires_at: Optional[datetime] = None) -> tuple[ApiToken, str]:
    """Store a new token and return it with the token itself (shown this once, never stored).

    Raises:
        TokenError: invalid name, scope or agency, or the name is taken.
    """
    name = name.strip().lower()
    if not NAME.match(name):
        raise TokenError(f"token name {name!r}: 3-40 of a-z 0-9 . _ -, starting with a letter or digit")
    checked_scopes = check_scopes(scopes)
    checked_agencies = check_agencies(agencies, known_agencies)
    if _current(session, name) is not None:
        raise TokenError(f"a token named {name!r} exists; rotate it (auskunft token rotate {name}) or choose "
                         "another name")
    token = new_token()
    row = ApiToken(name=name, token_hash=hash_token(token), scopes=checked_scopes, agencies=checked_agencies,
                   created_at=utcnow(), created_by=actor[:80], expires_at=expires_at)
    session.add(row)
    record(session, actor, "token_create", name, {"scopes": checked_scopes, "agencies": checked_agencies})
    session.commit()
    return row, token


def verify(session: Session, token: str, now: Optional[datetime] = None) -> Optional[ApiToken]:
    """The live token row for ``token``, or None (unknown, revoked or expired).

    The hash is compared in constant time; ``last_used_at`` is written at most once a minute.
    """
    if not token.startswith(PREFIX):
        return None
    wanted = hash_token(token)
    row: Optional[ApiToken] = session.execute(
        select(ApiToken).where(ApiToken.token_hash == wanted)).scalar_one_or_none()
    if row is None or not hmac.compare_digest(row.token_hash.encode(), wanted.encode()):
        return None
    now = now or utcnow()
    if row.revoked_at is not None or (row.expires_at is not None and aware(row.expires_at) <= now):
        return None
    if row.last_used_at is None or now - aware(row.last_used_at) >= LAST_USED_EVERY:
        row.last_used_at = now
        session.commit()
    return row


def rotate(session: Session, name: str, actor: str, grace: timedelta = DEFAULT_GRACE) -> tuple[ApiToken, str]:
    """A new token under ``name`` with the same scopes and agencies; the old one works ``grace`` longer.

    Raises:
        UnknownToken: no active token has this name.
        TokenError: a negative grace period.
    """
    if grace < timedelta(0):
        raise TokenError("the grace period cannot be negative (--grace 0 ends the old token now)")
    name = name.strip().lower()
    old = _current(session, name)
    now = utcnow()
    if old is None or old.revoked_at is not None:
        raise UnknownToken(f"no active token {name!r}; see 'auskunft token list'")
    until = now + grace
    if old.expires_at is not None:
        until = min(until, aware(old.expires_at))
    old.name = f"{name}{ROTATED}{old.id}"
    old.expires_at = until
    session.flush()  # the name is free before the new row takes it
    token = new_token()
    row = ApiToken(name=name, token_hash=hash_token(token), scopes=list(old.scopes), agencies=old.agencies,
                   created_at=now, created_by=actor[:80])
    session.add(row)
    record(session, actor, "token_rotate", name, {"old_valid_until": until.isoformat(timespec="seconds")})
    session.commit()
    return row, token


def revoke(session: Session, name: str, actor: str) -> int:
    """End the token ``name`` and its rotated predecessors now; returns how many were ended.

    Raises:
        UnknownToken: no unrevoked token has this name.
    """
    name = name.strip().lower()
    rows = list(session.execute(select(ApiToken).where(
        or_(ApiToken.name == name, ApiToken.name.like(f"{name}{ROTATED}%")),
        ApiToken.revoked_at.is_(None))).scalars())
    rows = [r for r in rows if base_name(r.name) == name]
    if not rows:
        raise UnknownToken(f"no active token {name!r}; see 'auskunft token list'")
    now = utcnow()
    for row in rows:
        row.revoked_at = now
    record(session, actor, "token_revoke", name, {"tokens": len(rows)})
    session.commit()
    return len(rows)


def list_tokens(session: Session) -> List[ApiToken]:
    """Every token (also rotated, expired and revoked ones), by name."""
    return list(session.execute(select(ApiToken).order_by(ApiToken.name, ApiToken.id)).scalars())


def state(row: ApiToken, now: Optional[datetime] = None) -> str:
    """``active``, ``expires <time>``, ``expired`` or ``revoked``."""
    now = now or utcnow()
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is None:
        return "active"
    until = aware(row.expires_at)
    return "expired" if until <= now else f"expires {until.isoformat(timespec='minutes')}"
