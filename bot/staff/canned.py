"""Canned replies: prepared reply texts per department, kept by managers and inserted by agents on a ticket page.

A text may hold placeholders in braces, filled in for the ticket at hand when an agent inserts it (see
:data:`PLACEHOLDERS`); a placeholder that is not known is refused when the text is saved, so that no citizen ever
reads ``{fallnumer}``. Every change is written to ``staff_audit`` (who, when, which text; the action starts with
``canned_``), without the text itself.
"""

from __future__ import annotations

import re
from typing import Dict, List, Mapping, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import AuskunftError
from bot.staff.models import CannedReply, StaffAudit
from bot.tickets.departments import Departments
from bot.tickets.models import utcnow

MAX_TITLE = 120
MAX_BODY = 5000  # as long as a reply may be
PLACEHOLDERS = {"fallnummer": "die Fallnummer, z. B. AK-7KQ2-M9XD",
                "abteilung": "der Name der zuständigen Abteilung",
                "mitarbeiter": "Ihr Name, wie die anfragende Person ihn sieht",
                "thema": "das Thema des Tickets"}
PLACEHOLDER = re.compile(r"\{([^{}\s]{1,40})\}")
ACTIONS = ("canned_created", "canned_updated", "canned_removed")


class CannedReplyError(AuskunftError, ValueError):
    """A canned reply that is refused; ``field`` names the form field at fault, ``code`` the reason.

    Args:
        message: what is wrong and what to do instead (English, for logs).
        field: ``department``, ``title`` or ``body``.
        code: a short key for the reason, e.g. ``unknown_placeholder``.
    """

    def __init__(self, message: str, field: str, code: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def check_department(key: str, known: Departments) -> str:
    """The department key. Raises CannedReplyError if it is not a configured department."""
    if key not in known.by_key:
        raise CannedReplyError(f"unknown department {key!r}; choose one of {', '.join(known.keys())}",
                               "department", "department")
    return key


def check_title(title: str) -> str:
    """The title without surrounding spaces. Raises CannedReplyError unless it has 1 to 120 characters."""
    text = " ".join((title or "").split())
    if not text or len(text) > MAX_TITLE:
        raise CannedReplyError(f"title: 1 to {MAX_TITLE} characters", "title", "title")
    return text


def unknown_placeholders(body: str) -> List[str]:
    """The placeholders in ``body`` that :func:`fill` would not know, in order of appearance."""
    return list(dict.fromkeys(name for name in PLACEHOLDER.findall(body or "") if name not in PLACEHOLDERS))


def check_body(body: str) -> str:
    """The text without surrounding blank space (line breaks inside kept).

    Raises:
        CannedReplyError: empty, longer than :data:`MAX_BODY`, or with an unknown placeholder.
    """
    text = (body or "").replace("\r\n", "\n").strip()
    if not text:
        raise CannedReplyError("the text is empty", "body", "body_empty")
    if len(text) > MAX_BODY:
        raise CannedReplyError(f"the text may have at most {MAX_BODY} characters", "body", "body_long")
    unknown = unknown_placeholders(text)
    if unknown:
        raise CannedReplyError(f"unknown placeholder {{{unknown[0]}}}; known: {', '.join(PLACEHOLDERS)}",
                               "body", "unknown_placeholder")
    return text


def fill(body: str, values: Mapping[str, str]) -> str:
    """``body`` with each known placeholder replaced by its value (unknown ones stay as written)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)) if m.group(1) in PLACEHOLDERS
                           else m.group(0), body)


def for_departments(session: Session, departments: Optional[Sequence[str]]) -> List[CannedReply]:
    """The canned replies of ``departments`` (None: all), by department and title."""
    query = select(CannedReply).order_by(CannedReply.department, CannedReply.title, CannedReply.id)
    if departments is not None:
        query = query.where(CannedReply.department.in_(list(departments)))
    return list(session.execute(query).scalars())


def get(session: Session, reply_id: int) -> Optional[CannedReply]:
    """One canned reply, or None."""
    return session.get(CannedReply, reply_id)


def _audit(session: Session, actor: str, action: str, row: CannedReply, detail: Dict[str, str]) -> None:
    session.add(StaffAudit(at=utcnow(), actor=actor[:80], action=action, target=f"baustein:{row.id}"[:40],
                           detail={"department": row.department, **detail}))


def create(session: Session, department: str, title: str, body: str, actor: str, known: Departments) -> CannedReply:
    """Store a new canned reply (checked) and audit it; committed.

    Raises:
        CannedReplyError: a field is invalid (nothing is stored).
    """
    row = CannedReply(department=check_department(department, known), title=check_title(title),
                      body=check_body(body), updated_by=actor[:80], updated_at=utcnow())
    session.add(row)
    session.flush()
    _audit(session, actor, "canned_created", row, {"title": row.title})
    session.commit()
    return row


def update(session: Session, row: CannedReply, department: str, title: str, body: str, actor: str,
           known: Departments) -> bool:
    """Change a canned reply (checked) and audit it; committed. Returns whether anything changed.

    Raises:
        CannedReplyError: a field is invalid (nothing is changed).
    """
    values = (check_department(department, known), check_title(title), check_body(body))
    if values == (row.department, row.title, row.body):
        return False
    changed = [name for name, old, new in zip(("department", "title", "body"), (row.department, row.title, row.body),
                                              values, strict=True) if old != new]
    row.department, row.title, row.body = values
    row.updated_by, row.updated_at = actor[:80], utcnow()
    _audit(session, actor, "canned_updated", row, {"title": row.title, "changed": ",".join(changed)})
    session.commit()
    return True


def remove(session: Session, row: CannedReply, actor: str) -> None:
    """Delete a canned reply and audit it; committed."""
    _audit(session, actor, "canned_removed", row, {"title": row.title})
    session.delete(row)
    session.commit()


def audit_log(session: Session, limit: int = 50) -> List[StaffAudit]:
    """The latest changes to canned replies, newest first."""
    query = (select(StaffAudit).where(StaffAudit.action.in_(ACTIONS))
             .order_by(StaffAudit.at.desc(), StaffAudit.id.desc()).limit(limit))
    return list(session.execute(query).scalars())
