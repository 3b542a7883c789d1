"""The agencies on the account pages: which accounts a manager sees, what the agency boxes offer and mean.

The rules are in :mod:`bot.staff.agency_scope`; this module turns them into the form's options (the box ``*``
stands for "every agency", offered to global managers only) and the overview's labels. In a single-agency
deployment there are no agency boxes and every account works for the one agency.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from bot.config.agencies import Agencies
from bot.staff.agency_scope import check_agencies, describe, manages
from bot.staff.models import Agent
from bot.web.routers.inbox_auth import Login

ALL = "*"
ALL_LABEL = "Alle Behörden (nur für die Administration des Betriebs)"


def sees_account(login: Login, agent: Agent) -> bool:
    """Whether the manager ``login`` may see and change ``agent``'s account."""
    return login.agencies is None or manages(login.agencies, agent.agencies)


def agency_options(login: Login, agencies: Agencies) -> List[Tuple[str, str]]:
    """The agency boxes of the account forms: the manager's agencies (and "every agency" for global managers)."""
    if len(agencies) < 2:
        return []
    options = [(a.key, a.name) for a in agencies if login.serves(a.key)]
    return options + [(ALL, ALL_LABEL)] if login.agencies is None else options


def checked(keys: Sequence[str], login: Login, agencies: Agencies) -> Optional[List[str]]:
    """The agencies to store from the ticked boxes (None: every agency).

    Raises:
        AgencyScopeError: see :func:`bot.staff.agency_scope.check_agencies`.
    """
    named = [key for key in keys if key != ALL]
    return check_agencies(named, [a.key for a in agencies], ALL in keys, login.agencies)


def ticked(agent: Agent) -> List[str]:
    """The boxes ticked for an existing account."""
    return [ALL] if agent.agencies is None else list(agent.agencies)


def label(agent: Agent, agencies: Agencies) -> str:
    """The overview's "Behörden" cell (empty in a single-agency deployment)."""
    if len(agencies) < 2:
        return ""
    return describe(agent.agencies, {a.key: a.name for a in agencies})
