"""FastAPI dependencies, as ``Annotated`` type aliases for the routers.

Every part of :class:`bot.web.state.WebServices` a router needs is a dependency here, so a test replaces
it with ``app.dependency_overrides[get_x] = ...`` instead of writing to the app.
"""

from __future__ import annotations

from typing import Annotated, Callable, Dict, Iterator, Optional

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.config.agencies import Agencies, Agency
from bot.config.settings import Settings
from bot.conversations.erase import TrackerEraser
from bot.limits.policy import CitizenLimits
from bot.retrieval.searcher import FaqSearcher
from bot.staff.api_tokens import Principal
from bot.staff.throttle import LoginThrottle
from bot.tickets.departments import Departments
from bot.tickets.models import Reply, Ticket
from bot.tickets.office_hours import OfficeHours
from bot.web.api_auth import authenticate
from bot.web.editor_state import AnalyticsEntry, AnalyticsKey
from bot.web.query_vectors import QueryVectors
from bot.web.state import WebServices

_bearer = HTTPBearer(auto_error=False)
TicketHook = Callable[[Session, Ticket], None]
ReplyHook = Callable[[Session, Ticket, Reply], None]
SearcherFor = Callable[[Optional[Agency]], FaqSearcher]


def services_of(app: FastAPI) -> WebServices:
    """The services :func:`bot.web.app.create_app` built for ``app`` (the one thing kept on ``app.state``)."""
    services: WebServices = app.state.services
    return services


def get_services(request: Request) -> WebServices:
    """The running app's services."""
    return services_of(request.app)


ServicesDep = Annotated[WebServices, Depends(get_services)]


def get_settings_dep(services: ServicesDep) -> Settings:
    """The app's settings."""
    return services.settings


def get_db(services: ServicesDep) -> Iterator[Session]:
    """One database session per request."""
    session = services.sessions()
    try:
        yield session
    finally:
        session.close()


def get_departments(services: ServicesDep) -> Departments:
    """The configured departments."""
    return services.departments


def get_agencies(services: ServicesDep) -> Agencies:
    """The agencies this deployment serves."""
    return services.agencies


def get_office_hours(services: ServicesDep) -> OfficeHours:
    """When the office answers."""
    return services.office_hours


def get_eraser(services: ServicesDep) -> TrackerEraser:
    """Deletes a conversation from Rasa's tracker store."""
    return services.eraser


def get_http(services: ServicesDep) -> httpx.AsyncClient:
    """The client for Rasa's REST channel."""
    return services.http_client()


def get_ticket_hook(services: ServicesDep) -> TicketHook:
    """Called after the ticket API created a ticket (queues it for the helpdesk)."""
    return services.ticket_created


def get_reply_hook(services: ServicesDep) -> ReplyHook:
    """Called after an agent's reply was stored (notifies the citizen)."""
    return services.reply_stored


def get_login_throttle(services: ServicesDep) -> LoginThrottle:
    """The delays after failed inbox logins (per user name and client address)."""
    return services.login_throttle


def get_searcher_for(services: ServicesDep) -> SearcherFor:
    """The editor pages' searcher for an agency (its published index; the model loads on first use)."""
    return services.editor.searcher


def get_tracker_engine(services: ServicesDep) -> Optional[Engine]:
    """Rasa's tracker database for the editor analytics; None while there is none to read."""
    return services.editor.tracker_engine()


def get_analytics_cache(services: ServicesDep) -> Dict[AnalyticsKey, AnalyticsEntry]:
    """The editor analytics computed recently (one period at a time)."""
    return services.editor.analytics


def get_limits(services: ServicesDep) -> CitizenLimits:
    """The limits on the citizen API and the handoff budgets."""
    return services.limits


def get_query_vectors(services: ServicesDep) -> Optional[QueryVectors]:
    """Embeds messages for Rasa in micro-batches (None in apps built without it)."""
    return services.vectors


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DbDep = Annotated[Session, Depends(get_db)]
DepartmentsDep = Annotated[Departments, Depends(get_departments)]
AgenciesDep = Annotated[Agencies, Depends(get_agencies)]
OfficeHoursDep = Annotated[OfficeHours, Depends(get_office_hours)]
EraserDep = Annotated[TrackerEraser, Depends(get_eraser)]
HttpDep = Annotated[httpx.AsyncClient, Depends(get_http)]
LimitsDep = Annotated[CitizenLimits, Depends(get_limits)]
QueryVectorsDep = Annotated[Optional[QueryVectors], Depends(get_query_vectors)]
TicketHookDep = Annotated[TicketHook, Depends(get_ticket_hook)]
ReplyHookDep = Annotated[ReplyHook, Depends(get_reply_hook)]
LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]
SearcherForDep = Annotated[SearcherFor, Depends(get_searcher_for)]
TrackerEngineDep = Annotated[Optional[Engine], Depends(get_tracker_engine)]
AnalyticsCacheDep = Annotated[Dict[AnalyticsKey, AnalyticsEntry], Depends(get_analytics_cache)]


def require_scope(scope: str) -> Callable[..., Principal]:
    """A dependency that lets through only tokens with ``scope`` and returns the caller.

    401 for a missing, unknown, revoked or expired token; 403 for a valid token without the scope.
    """

    def check(services: ServicesDep, session: DbDep,
              credentials: Annotated[Optional[HTTPAuthorizationCredentials], Depends(_bearer)]) -> Principal:
        principal = authenticate(credentials.credentials if credentials else "", services.api_token, session)
        if principal is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"},
                                detail="missing, unknown, revoked or expired API token (send 'Authorization: "
                                       "Bearer <token>'; tokens: auskunft token list)")
        if not principal.allows(scope):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                detail=f"the token {principal.name!r} lacks the scope {scope!r} (auskunft token "
                                       f"create NAME --scope {scope})")
        return principal

    check.__name__ = f"require_{scope.replace(':', '_')}"
    return check


TicketsCreateDep = Annotated[Principal, Depends(require_scope("tickets:create"))]
TicketsReadDep = Annotated[Principal, Depends(require_scope("tickets:read"))]
TicketsWriteDep = Annotated[Principal, Depends(require_scope("tickets:write"))]
FeedbackCreateDep = Annotated[Principal, Depends(require_scope("feedback:create"))]
FeedbackReadDep = Annotated[Principal, Depends(require_scope("feedback:read"))]
MetricsReadDep = Annotated[Principal, Depends(require_scope("metrics:read"))]
