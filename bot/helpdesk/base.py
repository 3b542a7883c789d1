"""What every helpdesk connector implements, the ticket as it is handed over, and how HTTP failures are classified.

A connector gets a :class:`TicketPayload` and either returns (delivered; optionally with the helpdesk's own
reference), raises :class:`DeliveryError` (temporary: the outbox tries again later) or raises
:class:`DeliveryRejected` (permanent: the delivery is marked failed and kept for a person). The case number is the
idempotency key: delivering the same ticket twice must not create two tickets in the helpdesk.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Optional, Protocol, Tuple, runtime_checkable

import httpx

from bot.errors import AuskunftError
from bot.privacy import redact
from bot.tickets.models import Ticket

ROLE_LABELS = {"citizen": "Bürger/in", "bot": "Chatbot", "agent": "Mitarbeiter/in"}
_TEMPORARY_4XX = (408, 425, 429)


class DeliveryError(AuskunftError):
    """A temporary failure (helpdesk unreachable, timeout, 5xx, 429): try again later.

    Args:
        message: what went wrong; never contains credentials.
        status: the HTTP status, if there was a response.
        retry_after: seconds to wait at least before the next attempt (a ``Retry-After`` header, or time for the
            helpdesk to settle after an ambiguous timeout).
    """

    def __init__(self, message: str, status: Optional[int] = None, retry_after: Optional[float] = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class DeliveryRejected(AuskunftError):
    """The helpdesk refused the ticket for good (401, 403, 404, 422, ...): retrying will not help.

    Args:
        message: what the helpdesk said (an excerpt of its answer); never contains credentials.
        status: the HTTP status.
    """

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class TranscriptEntry:
    """One message of the conversation (already redacted when the ticket was stored)."""

    role: str
    text: str
    at: Optional[str] = None


@dataclass(frozen=True)
class CandidateEntry:
    """An FAQ entry the bot considered."""

    faq_id: str
    title: str
    score: float
    owner: str = ""


def _iso(value: Optional[datetime]) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite returns naive datetimes; they are stored in UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat()


@dataclass(frozen=True)
class TicketPayload:
    """A ticket as it is handed to a helpdesk: plain, immutable data, independent of the database session."""

    case_number: str
    department: Optional[str]
    language: str
    reason: str
    question: str
    transcript: Tuple[TranscriptEntry, ...]
    candidates: Tuple[CandidateEntry, ...]
    email: Optional[str]
    consent: bool
    created_at: str

    @classmethod
    def from_ticket(cls, ticket: Ticket) -> "TicketPayload":
        """Copy what a helpdesk needs out of a stored :class:`~bot.tickets.models.Ticket`."""
        return cls(
            case_number=str(ticket.case_number),
            department=ticket.department,
            language=str(ticket.language),
            reason=str(ticket.reason),
            question=str(ticket.question),
            transcript=tuple(TranscriptEntry(role=str(line.get("role", "")), text=str(line.get("text", "")),
                                             at=line.get("at")) for line in (ticket.transcript or [])),
            candidates=tuple(CandidateEntry(faq_id=str(c.get("faq_id", "")), title=str(c.get("title") or ""),
                                            score=float(c.get("score") or 0.0), owner=str(c.get("owner") or ""))
                             for c in (ticket.candidates or [])),
            email=ticket.email,
            consent=bool(ticket.consent),
            created_at=_iso(ticket.created_at),
        )

    @property
    def idempotency_key(self) -> str:
        """The key a helpdesk uses to recognise a repeated delivery: the case number."""
        return self.case_number

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready dict (lists instead of tuples)."""
        data = asdict(self)
        data["transcript"] = [asdict(line) for line in self.transcript]
        data["candidates"] = [asdict(candidate) for candidate in self.candidates]
        return data

    def title(self, limit: int = 100) -> str:
        """``[AK-7KQ2-M9XD] <question excerpt>``: the case number first, so a helpdesk search finds it."""
        question = " ".join(self.question.split())
        room = max(10, limit - len(self.case_number) - 3)
        excerpt = question if len(question) <= room else question[: room - 1].rstrip() + "…"
        return f"[{self.case_number}] {excerpt}"

    def as_text(self) -> str:
        """The whole ticket as plain text for a person: facts, the question, the bot's candidates, the transcript."""
        lines = [f"Anfrage aus dem Chat (Auskunft), Vorgang {self.case_number}",
                 f"Grund: {self.reason}", f"Bereich: {self.department or '-'}", f"Sprache: {self.language}",
                 f"E-Mail für Rückfragen: {self.email or '(keine angegeben)'}", f"Erstellt: {self.created_at}",
                 "", "Frage:", self.question]
        if self.candidates:
            lines += ["", "Vom Chatbot erwogene Antworten:"]
            lines += [f"- {c.title or c.faq_id} ({c.faq_id}, {c.score:.2f})" for c in self.candidates]
        if self.transcript:
            lines += ["", "Gesprächsverlauf:"]
            lines += [f"[{line.at or '-'}] {ROLE_LABELS.get(line.role, line.role)}: {line.text}"
                      for line in self.transcript]
        return "\n".join(lines)


@runtime_checkable
class Connector(Protocol):
    """Delivers tickets to one helpdesk."""

    name: str

    def deliver(self, ticket: TicketPayload) -> Optional[str]:
        """Create the ticket in the helpdesk (or recognise it is already there).

        Returns:
            The helpdesk's own reference of the ticket, if it has one.

        Raises:
            DeliveryError: a temporary failure; the outbox tries again later.
            DeliveryRejected: a permanent refusal; the delivery is marked failed for a person to look at.
        """
        ...


def excerpt(text: str, limit: int = 200) -> str:
    """A short, single-line, redacted excerpt of a helpdesk's answer for error messages."""
    return redact(re.sub(r"\s+", " ", text).strip()[:limit])


def check_response(response: httpx.Response, service: str) -> None:
    """Raise the matching delivery error unless ``response`` is a 2xx.

    5xx, 408, 425 and 429 are temporary (:class:`DeliveryError`, honouring a numeric ``Retry-After``); every other
    status (other 4xx, and 3xx since redirects are not followed) is a :class:`DeliveryRejected`.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"{service} answered HTTP {status}: {excerpt(response.text)}"
    if status >= 500 or status in _TEMPORARY_4XX:
        retry_after: Optional[float] = None
        header = response.headers.get("Retry-After", "")
        if header.strip().isdigit():
            retry_after = float(header.strip())
        raise DeliveryError(message, status=status, retry_after=retry_after)
    raise DeliveryRejected(message, status=status)


def transport_failure(err: httpx.HTTPError, service: str) -> DeliveryError:
    """A :class:`DeliveryError` for a connection error or timeout (the message names the error class only)."""
    return DeliveryError(f"{service} unreachable: {type(err).__name__}")
