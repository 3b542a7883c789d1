"""A login waiting for its second step: after a right password, before the one-time code (no session yet).

Kept for five minutes in the shared limit store (every process of a deployment sees it) under the SHA-256 of a
random token that only the browser holds (cookie ``auskunft_totp``). It records the account, where to go after the
login, the CSRF token of the code form, the wrong codes so far and, for an account that must set up a second factor
first, the new secret it is shown.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any, Dict, Optional, Tuple

from bot.limits.base import Limiter

COOKIE = "auskunft_totp"
COOKIE_PATH = "/inbox/login"
PENDING_S = 300.0


def _key(token: str) -> str:
    return "totp:p:" + hashlib.sha256(token.encode()).hexdigest()[:40]


def start(limiter: Limiter, agent_id: int, next_url: str, secret: str = "") -> Tuple[str, Dict[str, Any]]:
    """Note a pending login; returns the browser's token and the record."""
    token = secrets.token_urlsafe(32)
    pending = {"agent": agent_id, "next": next_url, "csrf": secrets.token_urlsafe(32), "tries": 0, "secret": secret}
    save(limiter, token, pending)
    return token, pending


def load(limiter: Limiter, token: Optional[str]) -> Optional[Dict[str, Any]]:
    """The pending login of ``token``, or None (none, expired or ended)."""
    stored = limiter.recall(_key(token)) if token and len(token) < 100 else None
    return json.loads(stored) if stored else None


def save(limiter: Limiter, token: str, pending: Dict[str, Any]) -> None:
    """Store the pending login (again: the wrong codes so far), for another :data:`PENDING_S` seconds at most."""
    limiter.note(_key(token), json.dumps(pending), PENDING_S)


def end(limiter: Limiter, token: str) -> None:
    """Forget the pending login (used, or too many wrong codes)."""
    limiter.note(_key(token), "", 1.0)
