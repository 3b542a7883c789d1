"""The demo page at ``/``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent / "static"


@router.get("/", response_class=HTMLResponse)
def demo_page() -> HTMLResponse:
    """A minimal page to chat with the bot through ``/api/chat``."""
    return HTMLResponse((STATIC / "demo.html").read_text(encoding="utf-8"))
