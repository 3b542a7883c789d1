"""The example host site (a mock city website with the widget embedded), at ``/``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent / "static"
SITE = STATIC / "site"
WIDGET = STATIC / "widget"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PAGES = {"": "index.html", "buergerservice": "buergerservice.html", "en": "en.html", "datenschutz": "datenschutz.html"}


@router.get("/", response_class=HTMLResponse)
@router.get("/{page}", response_class=HTMLResponse)
def site_page(page: str = "") -> HTMLResponse:
    """A page of the example city site."""
    name = PAGES.get(page.strip("/"))
    if name is None:
        raise HTTPException(404, detail=f"no page {page!r}")
    return HTMLResponse((SITE / name).read_text(encoding="utf-8"))
