"""Who calls the ticket, feedback and metrics API: the bearer token as a :class:`Principal` with scopes.

Three kinds of token are accepted (see docs/api-tokens.md):

- scoped tokens (``ak_...``) from ``auskunft token create``, checked against the ``api_tokens`` table
  (:mod:`bot.staff.api_tokens`): their own scopes and agencies;
- the action server's default token, derived from the legacy token
  (:func:`bot.run.runtime_env.derived_actions_token`): ``tickets:create`` and ``feedback:create`` only (an
  ``actions_api_token`` that is set is a scoped token like any other);
- the legacy ``api_token``: every scope and every agency, kept so that existing integrations keep working
  (a warning at start-up recommends scoped tokens).
"""

from __future__ import annotations

import hmac
import logging
from typing import Optional

from sqlalchemy.orm import Session

from bot.config.settings import Settings
from bot.run.runtime_env import derived_actions_token
from bot.staff.api_tokens import ACTION_SERVER_SCOPES, SCOPES, Principal, principal_of, verify

logger = logging.getLogger(__name__)
LEGACY = Principal("legacy", frozenset(SCOPES))
ACTIONS = Principal("actions", frozenset(ACTION_SERVER_SCOPES))


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def authenticate(given: str, legacy: str, session: Session) -> Optional[Principal]:
    """The caller the bearer token ``given`` stands for, or None for a missing, unknown, revoked or expired one.

    Args:
        given: the token from the ``Authorization`` header.
        legacy: the legacy ``api_token`` (configured or generated under home).
        session: the ticket database, where the scoped tokens are kept.
    """
    if not given:
        return None
    if _same(given, legacy):
        return LEGACY
    if _same(given, derived_actions_token(legacy)):
        return ACTIONS
    row = verify(session, given)
    return principal_of(row) if row is not None else None


def warn_about_legacy_token(settings: Settings) -> None:
    """Log once at start-up that a configured ``api_token`` has every scope and scoped tokens are safer."""
    if settings.api_token is not None:
        logger.warning("AUSKUNFT_API_TOKEN is the legacy API token with every scope for every agency; give each "
                       "integration its own scoped token instead (auskunft token create NAME --scope ...; "
                       "docs/api-tokens.md)")
