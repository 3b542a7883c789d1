"""The staff account of a person who signed in with the identity provider.

The account is found by ``Agent.external_subject`` (``"<issuer> <sub>"``), created at the first sign-in and given
the departments, agencies and roles of the person's mapped groups at every sign-in (the provider is the source of
truth; changes are written to ``staff_audit`` as actor ``oidc``). A new account's user name comes from
``preferred_username`` (or the e-mail's local part), reduced to ``a-z 0-9 . _ -``; a taken name gets ``-2``,
``-3``, … Such an account has no usable password: the password login refuses it (:func:`bot.staff.auth.authenticate`).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.staff.accounts import record, roles_of
from bot.staff.auth import get_agent
from bot.staff.models import Agent
from bot.staff.oidc import Identity, OidcError
from bot.staff.oidc_groups import GroupMapping
from bot.staff.passwords import hash_password

ACTOR = "oidc"
UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def username_from(hint: str) -> str:
    """A user name of 3 to 40 characters of ``a-z 0-9 . _ -`` made from ``hint``.

    Example: ``Jürgen Weiß`` → ``juergen.weiss``; ``staff`` when nothing usable is left.
    """
    text = unicodedata.normalize("NFKD", hint.strip().lower().translate(UMLAUTS))
    text = re.sub(r"[^a-z0-9._-]+", ".", text.encode("ascii", "ignore").decode())
    text = re.sub(r"\.{2,}", ".", text).strip("._-")[:34].strip("._-")
    return text if len(text) >= 3 else (f"staff.{text}" if text else "staff")


def _free_username(session: Session, hint: str) -> str:
    base = username_from(hint)
    name, number = base, 1
    while get_agent(session, name) is not None:
        number += 1
        name = f"{base}-{number}"
    return name


def sign_in(session: Session, identity: Identity, mapping: GroupMapping) -> Agent:
    """The account of ``identity``, created or brought up to date from its groups (committed).

    Two first sign-ins of the same person at the same moment (two tabs, a double click, two replicas) both find no
    account; the second one's insert then violates the unique subject (or user name) and is tried once more, when
    it finds the account the first one made.

    Raises:
        OidcError: ``no_group`` (none of the person's groups is mapped) or ``disabled`` (the account is disabled).
    """
    try:
        return _sign_in(session, identity, mapping)
    except IntegrityError:
        session.rollback()
        return _sign_in(session, identity, mapping)


def _sign_in(session: Session, identity: Identity, mapping: GroupMapping) -> Agent:
    rights = mapping.rights(identity.groups)
    agent = session.execute(select(Agent).where(Agent.external_subject == identity.subject)).scalar_one_or_none()
    if agent is not None and not agent.active:
        raise OidcError("disabled", f"account {agent.username!r} is disabled")
    if rights is None:
        raise OidcError("no_group", f"none of the {len(identity.groups)} groups of the person is mapped in "
                        "oidc_groups_file")
    display = (identity.display_name.strip() or identity.username)[:120]
    wanted: Dict[str, Any] = {"departments": list(rights.departments),
                              "agencies": list(rights.agencies) if rights.agencies is not None else None,
                              "roles": [r for r in ("manager", "editor") if getattr(rights, r)]}
    if agent is None:
        agent = Agent(username=_free_username(session, identity.username), display_name=display,
                      password_hash=hash_password(secrets.token_urlsafe(32)), external_subject=identity.subject,
                      active=True)
        _apply(agent, wanted)
        session.add(agent)
        session.flush()
        record(session, ACTOR, "created", agent.username, {**wanted, "provider": True})
    else:
        changed = _changes(agent, wanted)
        if display != agent.display_name:
            agent.display_name = display
            changed["display_name"] = "changed"
        if changed:
            _apply(agent, wanted)
            record(session, ACTOR, "updated", agent.username, changed)
    session.commit()
    return agent


def _changes(agent: Agent, wanted: Dict[str, Any]) -> Dict[str, Any]:
    current: Dict[str, Optional[List[str]]] = {"departments": list(agent.departments or []),
                                               "agencies": agent.agencies, "roles": roles_of(agent)}
    return {key: value for key, value in wanted.items() if current[key] != value}


def _apply(agent: Agent, wanted: Dict[str, Any]) -> None:
    agent.departments = wanted["departments"]
    agent.agencies = wanted["agencies"]
    agent.is_manager = "manager" in wanted["roles"]
    agent.is_editor = "editor" in wanted["roles"]
