"""Which agencies a staff account works for (``Agent.agencies``), and which accounts a manager may manage.

Rules (see docs/agents.md, "Mehrere Behörden"):

- ``agencies`` lists agency keys of ``agencies.yml``; the account sees only those agencies' tickets (a ticket
  without an agency belongs to the default agency), their analytics and their kb in the editor pages.
- NULL means every agency. Older rows and every account of a single-agency deployment have it. In a deployment
  with more than one agency a new account must be given its agencies explicitly; a NULL ("global") account is
  only for the deployment's own administrators and has to be asked for (``--all-agencies`` on the command line,
  "Alle Behörden" in the browser, offered only to global managers).
- A manager is scoped too: a manager with agencies ``[A]`` sees and changes only accounts whose agencies are all
  among ``[A]`` (never a global account), may grant only ``A``, and sees only ``A``'s figures.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence

from bot.staff.accounts import AccountError


class AgencyScopeError(AccountError):
    """An account's agencies are refused; ``code`` names the reason (``unknown_agency``, ``no_agency``, ...)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, "agencies", code)


def check_agencies(keys: Optional[Iterable[str]], known: Sequence[str], everything: bool = False,
                   granted_by: Optional[Sequence[str]] = None) -> Optional[List[str]]:
    """The agencies to store for an account: a list of keys, or None (every agency).

    Args:
        keys: the agency keys asked for (None or empty: none named).
        known: the keys of the deployment's agencies (``agencies.yml``; one key: a single-agency deployment).
        everything: the account is asked to work for every agency (a global account).
        granted_by: the agencies of the manager who grants them (None: a global manager or the command line).

    Raises:
        AgencyScopeError: an unknown key; none named in a deployment with several agencies; both a list and
            ``everything``; or more than the granting manager holds.
    """
    chosen: List[str] = []
    for key in keys or ():
        if key not in known:
            raise AgencyScopeError(f"unknown agency {key!r}; one of {', '.join(known)} (agencies.yml)",
                                   "unknown_agency")
        if key not in chosen:
            chosen.append(key)
    if len(known) < 2:
        return None  # one agency: every account works for it
    if everything and chosen:
        raise AgencyScopeError("name agencies or ask for all agencies, not both", "agency_and_all")
    if everything:
        if granted_by is not None:
            raise AgencyScopeError("only a manager of every agency can create an account for every agency",
                                   "agency_outside")
        return None
    if not chosen:
        raise AgencyScopeError(f"this deployment serves several agencies ({', '.join(known)}): name the account's "
                               "agencies with --agency KEY (repeatable), or --all-agencies for an administrator",
                               "no_agency")
    outside = [key for key in chosen if granted_by is not None and key not in granted_by]
    if outside:
        raise AgencyScopeError(f"you do not manage agency {outside[0]!r}", "agency_outside")
    return chosen


def manages(manager_agencies: Optional[Sequence[str]], account_agencies: Optional[Sequence[str]]) -> bool:
    """Whether a manager with ``manager_agencies`` (None: global) may see and change an account with these."""
    if manager_agencies is None:
        return True
    return account_agencies is not None and all(key in manager_agencies for key in account_agencies)


def describe(agencies: Optional[Sequence[str]], names: Optional[Dict[str, str]] = None) -> str:
    """``alle Behörden (Administration)`` for a global account, else the agencies' names joined by commas."""
    if agencies is None:
        return "alle Behörden (Administration)"
    return ", ".join((names or {}).get(key, key) for key in agencies) or "keine"
