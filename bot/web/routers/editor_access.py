"""Which agency an editor page is about: shared by every router under ``/inbox/editor``.

Who may use the pages (editors and managers, for their agencies only) is checked once for every editor route by
:func:`bot.web.routers.inbox_access.editor_gate`, the editor router's dependency.
"""

from __future__ import annotations

from typing import Annotated, Any, Dict

from fastapi import HTTPException, Query, status

from bot.config.agencies import AGENCY_KEY, Agencies, Agency, UnknownAgency

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

