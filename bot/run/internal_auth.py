"""The shared secret between the web service, Rasa and the action server (``AUSKUNFT_INTERNAL_TOKEN``).

Rasa's REST channel skips the web service's limits and the action server creates tickets with the
real API token, so neither may answer a caller that only reached its address. When the secret is
set, each call carries it in :data:`HEADER`; the receivers compare it in constant time.
"""

from __future__ import annotations

import hmac
from typing import Dict, Mapping, Optional

from bot.config.settings import Settings

HEADER = "X-Auskunft-Internal"
REFUSED = "missing or wrong internal token (header X-Auskunft-Internal); only the web service and Rasa may call this"


def expected_token(settings: Settings) -> Optional[str]:
    """The configured secret, or None when calls are not checked (single host on loopback)."""
    if settings.internal_token is None:
        return None
    return settings.internal_token.get_secret_value() or None


def is_allowed(expected: Optional[str], headers: Mapping[str, str]) -> bool:
    """Whether a call with these headers may pass (always, when no secret is set).

    Args:
        expected: the configured secret (:func:`expected_token`).
        headers: the request's headers (case-insensitive mapping, as Sanic and Starlette give them).

    Returns:
        True when no secret is set or the header carries it (compared in constant time).
    """
    if expected is None:
        return True
    given = headers.get(HEADER) or ""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def outgoing_headers(settings: Settings) -> Dict[str, str]:
    """The headers the web service adds to its calls to Rasa (none when no secret is set)."""
    token = expected_token(settings)
    return {HEADER: token} if token else {}
