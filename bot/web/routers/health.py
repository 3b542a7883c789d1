"""``/healthz``: liveness for the supervisor and load balancers."""

from __future__ import annotations

from typing import Dict

from fastapi import APIRouter
from sqlalchemy import text

from bot.web.deps import DbDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: DbDep) -> Dict[str, str]:
    """OK when the database answers."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}
