"""The second factor of local staff accounts: time-based one-time codes (TOTP, RFC 6238) from an authenticator app.

A code is 6 digits for a 30-second step; the step before and after are accepted too (clocks drift). A code works
once: the step of the last accepted code is kept in ``Agent.totp_last_step`` and only later steps are accepted. A
secret is stored only after the person typed a right code from it (:func:`confirm_enrolment`). Wrong codes count in
the login throttle like wrong passwords (the web layer calls :meth:`~bot.staff.throttle.LoginThrottle.failed`).
Accounts of the identity provider have no TOTP here: their provider asks for its own factors.
"""

from __future__ import annotations

import hmac
import time
from typing import Optional

import pyotp
from sqlalchemy.orm import Session

from bot.staff.accounts import end_sessions, find, record
from bot.staff.models import Agent

ISSUER = "Auskunft"
STEP_S = 30
WINDOW = 1


def new_secret() -> str:
    """A random base32 secret of 160 bits (32 characters)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (as a QR code, or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def grouped(secret: str) -> str:
    """The secret in groups of four characters, easier to type (``ABCD EFGH …``)."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def matching_step(secret: str, code: str, now: float, after: Optional[int] = None) -> Optional[int]:
    """The time step of ``code`` (this step ± :data:`WINDOW`) if it is right and later than ``after``, else None."""
    code = "".join((code or "").split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_S)
    found: Optional[int] = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.at(step * STEP_S), code) and (after is None or step > after) and found is None:
            found = step  # no early exit: every candidate takes the same time
    return found


def needs_code(agent: Agent) -> bool:
    """Whether the password login of ``agent`` asks for a code (a confirmed secret, local account)."""
    return bool(agent.totp_secret) and not agent.external_subject


def check_code(session: Session, agent: Agent, code: str, now: Optional[float] = None) -> bool:
    """Whether ``code`` is a right, unused code of the agent's secret; a right one is used up (committed)."""
    if not agent.totp_secret:
        return False
    step = matching_step(agent.totp_secret, code, time.time() if now is None else now, agent.totp_last_step)
    if step is None:
        return False
    agent.totp_last_step = step
    session.commit()
    return True


def confirm_enrolment(session: Session, agent: Agent, secret: str, code: str, now: Optional[float] = None) -> bool:
    """Store ``secret`` as the agent's second factor if ``code`` is right for it (the code is used up)."""
    step = matching_step(secret, code, time.time() if now is None else now)
    if step is None:
        return False
    agent.totp_secret, agent.totp_last_step = secret, step
    record(session, agent.username, "totp_enrolled", agent.username)
    session.commit()
    return True


def reset(session: Session, username: str, actor: str) -> Agent:
    """Remove an account's second factor (a lost phone) and end its sessions; it sets up a new one after login.

    Raises:
        UnknownAgent: no such account.
    """
    agent = find(session, username)
    agent.totp_secret, agent.totp_last_step = None, None
    ended = end_sessions(session, agent)
    record(session, actor, "totp_reset", agent.username, {"sessions_ended": ended})
    session.commit()
    return agent
