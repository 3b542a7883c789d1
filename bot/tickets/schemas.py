"""API payloads of the ticket service (pydantic v1, as Rasa 3.6 pins it)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import List, Optional

from pydantic import BaseModel, Field, constr, validator

CASE_NUMBER = r"^AK-[0-9A-Z]{4}-[0-9A-Z]{4}$"
# Exactly one address: a dot-atom local part (no quotes, spaces, commas, semicolons, angle brackets, line breaks,
# second "@") and a domain of letter/digit labels (umlauts allowed) with a top-level domain. Python syntax (``\Z``:
# ``$`` would let a trailing newline through), so it is checked by a validator, not put into the OpenAPI pattern.
EMAIL = re.compile(r"(?=[^@]{1,64}@)[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
                   r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})\Z")


def is_one_address(text: str) -> bool:
    """Whether ``text`` is exactly one e-mail address (``a@b.de,postmaster`` or ``Name <a@b.de>`` are not)."""
    return len(text) <= 254 and EMAIL.match(text) is not None


class CandidateIn(BaseModel):
    """An FAQ entry the bot considered."""

    faq_id: str = Field(..., max_length=80)
    title: str = Field("", max_length=300)
    score: float = Field(..., ge=-1.0, le=1.0)
    owner: str = Field("", max_length=120, description="the kb entry's owner (office); routes the ticket")


class TranscriptLine(BaseModel):
    """One message of the conversation."""

    role: str = Field(..., regex="^(citizen|bot|agent)$")
    text: str = Field(..., max_length=5000)
    at: Optional[datetime] = None
    options: List[constr(max_length=300)] = Field(  # type: ignore[valid-type]
        default_factory=list, max_items=12, description="a bot line: the titles of the buttons it offered")
    choice: Optional[str] = Field(None, max_length=300, description="a button click: the title of the button")
    decision: Optional[str] = Field(None, regex="^[a-z_]{2,20}$", description="a bot line: what the bot decided")
    score: Optional[float] = Field(None, ge=-1.0, le=1.0, description="a bot line: the best candidate's similarity")
    faq_id: Optional[str] = Field(None, max_length=80, description="a bot line: the entry it answered with")


class TicketCreate(BaseModel):
    """What the handoff action sends; ``case_number`` makes the request idempotent."""

    case_number: str = Field(..., regex=CASE_NUMBER)
    conversation_id: str = Field(..., min_length=1, max_length=128)
    language: str = Field(..., regex="^(de|en)$")
    reason: str = Field(..., regex="^[a-z_]{2,40}$")
    question: str = Field(..., min_length=1, max_length=5000)
    candidates: List[CandidateIn] = Field(default_factory=list, max_items=10)
    other_needs: List[constr(max_length=1000)] = Field(  # type: ignore[valid-type]
        default_factory=list, max_items=5, description="earlier questions of the conversation that are unresolved too")
    transcript: List[TranscriptLine] = Field(default_factory=list, max_items=500)
    consent: bool
    email: Optional[str] = Field(None, max_length=254, description="exactly one address, e.g. name@example.org "
                                 "(no display name, list, spaces or line breaks)")
    index_version: Optional[str] = Field(None, max_length=40)
    agency: Optional[str] = Field(None, regex="^[a-z0-9][a-z0-9-]{0,39}$", description="the agency whose widget "
                                  "the citizen used (deployments serving several agencies)")

    @validator("email")
    def _one_address(cls, value: Optional[str]) -> Optional[str]:  # noqa: N805 - pydantic validator signature
        if value is not None and not is_one_address(value):
            raise ValueError("must be exactly one e-mail address, e.g. name@example.org")
        return value

    @validator("consent")
    def _consent_given(cls, value: bool) -> bool:  # noqa: N805 - pydantic validator signature
        if not value:
            raise ValueError("a ticket needs the citizen's consent to forward the conversation")
        return value


class ReplyIn(BaseModel):
    """An agent's reply."""

    author: str = Field(..., min_length=1, max_length=120)
    text: str = Field(..., min_length=1, max_length=5000)


class ReplyOut(ReplyIn):
    """A stored reply."""

    created_at: datetime

    class Config:
        orm_mode = True


class StatusChange(BaseModel):
    """A status transition."""

    status: str = Field(..., regex="^(new|in_progress|waiting|resolved)$")


class EventOut(BaseModel):
    """One entry of a ticket's history."""

    at: datetime
    actor: str
    kind: str
    text: Optional[str]
    data: Optional[dict]

    class Config:
        orm_mode = True


class TicketOut(BaseModel):
    """A ticket as the API returns it."""

    case_number: str
    conversation_id: str
    status: str
    language: str
    reason: str
    question: str
    candidates: List[CandidateIn]
    other_needs: List[str] = Field(default_factory=list)
    transcript: List[TranscriptLine]
    consent: bool
    email: Optional[str]
    index_version: Optional[str]
    agency: Optional[str]
    created_at: datetime
    updated_at: datetime
    closed_at: Optional[datetime]
    department: Optional[str]
    assignee: Optional[str]
    holds_conversation: Optional[bool]
    first_reply_at: Optional[datetime]
    out_of_hours: Optional[bool]
    replies: List[ReplyOut]
    events: List[EventOut]

    class Config:
        orm_mode = True


class TicketCreated(TicketOut):
    """The answer to creating a ticket: where it stands, for the bot to tell the citizen."""

    queue_position: int = Field(0, description="1 = next in its department's queue")
    office_open: bool = Field(True, description="whether the office is staffed right now")
    next_opening: Optional[datetime] = Field(None, description="when the office opens next (outside office hours)")


class TicketSummary(BaseModel):
    """A ticket in a list."""

    case_number: str
    status: str
    language: str
    reason: str
    question: str
    department: Optional[str]
    assignee: Optional[str]
    created_at: datetime

    class Config:
        orm_mode = True
