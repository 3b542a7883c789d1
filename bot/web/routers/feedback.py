"""``/api/feedback``: "did this help?" votes per FAQ entry (recorded by the action server).

Recording needs the scope ``feedback:create``, reading the votes ``feedback:read``.
"""

from __future__ import annotations

from typing import List, Optional

from fastapi import APIRouter, Query, status

from bot.feedback import service
from bot.feedback.models import Feedback
from bot.feedback.service import FeedbackCount, FeedbackIn, FeedbackOut
from bot.web.deps import DbDep, FeedbackCreateDep, FeedbackReadDep

router = APIRouter(prefix="/api/feedback", tags=["feedback"],
                   responses={401: {"description": "missing, unknown, revoked or expired API token"},
                              403: {"description": "the token lacks the route's scope"}})


@router.post("", response_model=FeedbackOut, status_code=status.HTTP_201_CREATED)
def record_feedback(vote: FeedbackIn, session: DbDep, caller: FeedbackCreateDep) -> Feedback:
    """Store one vote on one answer."""
    return service.record(session, vote)


@router.get("", response_model=List[FeedbackOut])
def list_feedback(session: DbDep, caller: FeedbackReadDep, conversation_id: Optional[str] = Query(None, max_length=128),
                  limit: int = Query(1000, ge=1, le=10000)) -> List[Feedback]:
    """Stored votes, newest first."""
    return service.votes(session, conversation_id, limit)


@router.get("/summary", response_model=List[FeedbackCount])
def feedback_summary(session: DbDep, caller: FeedbackReadDep) -> List[FeedbackCount]:
    """Helpful / not helpful per FAQ entry."""
    return service.counts(session)
