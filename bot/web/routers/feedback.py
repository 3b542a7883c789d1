"""``/api/feedback``: "did this help?" votes per FAQ entry (recorded by the action server)."""

from __future__ import annotations

from typing import List, Optional

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

from bot.feedback import service
from bot.feedback.models import Feedback
from bot.feedback.service import FeedbackCount, FeedbackIn, FeedbackOut
from bot.web.deps import get_db, require_token

router = APIRouter(prefix="/api/feedback", tags=["feedback"], dependencies=[Depends(require_token)])


@router.post("", response_model=FeedbackOut, status_code=status.HTTP_201_CREATED)
def record_feedback(vote: FeedbackIn, session: Session = Depends(get_db)) -> Feedback:
    """Store one vote on one answer."""
    return service.record(session, vote)


@router.get("", response_model=List[FeedbackOut])
def list_feedback(conversation_id: Optional[str] = Query(None, max_length=128),
                  limit: int = Query(1000, ge=1, le=10000), session: Session = Depends(get_db)) -> List[Feedback]:
    """Stored votes, newest first."""
    return service.votes(session, conversation_id, limit)


@router.get("/summary", response_model=List[FeedbackCount])
def feedback_summary(session: Session = Depends(get_db)) -> List[FeedbackCount]:
    """Helpful / not helpful per FAQ entry."""
    return service.counts(session)
