"""``/healthz``: liveness for the supervisor and load balancers."""

from __future__ import annotations

from typing import Dict

from fastapi import APIRouter, Depends
from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.web.deps import get_db

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: Session = Depends(get_db)) -> Dict[str, str]:
    """OK when the database answers."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}
