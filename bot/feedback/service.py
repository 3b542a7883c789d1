"""Recording and summarising feedback, independent of HTTP."""

from __future__ import annotations

from typing import List, Optional

from pydantic import BaseModel, Field
from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from bot.feedback.models import Feedback


class FeedbackIn(BaseModel):
    """A vote, as the action server reports it."""

    conversation_id: str = Field(..., min_length=1, max_length=128)
    faq_id: str = Field(..., min_length=1, max_length=80)
    helpful: bool
    language: str = Field("de", regex="^(de|en)$")
    index_version: Optional[str] = Field(None, max_length=40)


class FeedbackOut(FeedbackIn):
    """A stored vote."""

    id: int

    class Config:
        orm_mode = True


class FeedbackCount(BaseModel):
    """Votes on one FAQ entry."""

    faq_id: str
    helpful: int
    not_helpful: int


def record(session: Session, vote: FeedbackIn) -> Feedback:
    """Store one vote."""
    stored = Feedback(**vote.dict())
    session.add(stored)
    session.commit()
    return stored


def votes(session: Session, conversation_id: Optional[str] = None, limit: int = 1000) -> List[Feedback]:
    """Stored votes, newest first, optionally of one conversation."""
    query = select(Feedback).order_by(Feedback.id.desc()).limit(limit)
    if conversation_id:
        query = query.where(Feedback.conversation_id == conversation_id)
    return list(session.execute(query).scalars())


def counts(session: Session) -> List[FeedbackCount]:
    """Helpful and not-helpful votes per FAQ entry, most voted first."""
    helpful = func.sum(case((Feedback.helpful.is_(True), 1), else_=0))
    total = func.count(Feedback.id)
    rows = session.execute(
        select(Feedback.faq_id, helpful, total).group_by(Feedback.faq_id).order_by(total.desc(), Feedback.faq_id)
    ).all()
    return [FeedbackCount(faq_id=faq, helpful=int(yes or 0), not_helpful=int(n) - int(yes or 0))
            for faq, yes, n in rows]


def delete_conversation(session: Session, conversation_id: str) -> int:
    """Forget a conversation's votes (the citizen deleted it); returns how many."""
    result = session.execute(delete(Feedback).where(Feedback.conversation_id == conversation_id))
    session.commit()
    return int(result.rowcount or 0)
