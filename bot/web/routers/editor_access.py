"""Who may use the editor pages and which agency a page is about: shared by every router under ``/inbox/editor``."""

from __future__ import annotations

from typing import Annotated, Any, Dict, Optional

from fastapi import HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse

from bot.config.agencies import AGENCY_KEY, Agencies, Agency, UnknownAgency
from bot.staff.auth import can_edit
from bot.web.routers.inbox_auth import Login, render

AgencyKey = Annotated[str, Query(alias="agency", max_length=40, regex=f"^$|{AGENCY_KEY.pattern}")]


def agency_of(agencies: Agencies, key: str) -> Agency:
    """The agency an editor page is about (``?agency=``; none: the default agency).

    Raises:
        HTTPException: 404 for an agency this deployment does not serve.
    """
    try:
        return agencies.get(key or None)
    except UnknownAgency:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Unbekannte Behörde {key!r}") from None


def agency_context(agencies: Agencies, agency: Agency) -> Dict[str, Any]:
    """What the layout needs to offer the agencies (only where the deployment serves several)."""
    return {"agency": agency, "agency_options": [(a.key, a.name) for a in agencies] if len(agencies) > 1 else [],
            "agency_query": "" if agency.is_default else f"?agency={agency.key}"}


def refused(request: Request, login: Login) -> Optional[HTMLResponse]:
    """A 403 page for agents who are neither editors nor managers; None for those who may see the pages."""
    if can_edit(login.agent):
        return None
    return render(request, "editor/forbidden.html", {"active": ""}, login, status_code=status.HTTP_403_FORBIDDEN)
