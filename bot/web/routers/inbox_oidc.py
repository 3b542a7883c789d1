"""Staff sign-in with the agency's identity provider (OpenID Connect; :mod:`bot.staff.oidc`).

``/inbox/oidc/start`` sends the browser to the provider with ``state``, ``nonce`` and a PKCE challenge, and keeps
them in a signed cookie (``SameSite=Lax``: the way back is a top-level navigation from the provider's site);
``/inbox/oidc/callback`` checks the answer and the ID token, brings the account up to date from the person's groups
(:mod:`bot.staff.oidc_accounts`) and starts the same session as the password login. Every refusal shows the login
page with a German message and starts no session; the reason is logged (never a token or secret).
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Annotated, Optional

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from bot.config.agencies import Agencies
from bot.config.settings import Settings
from bot.staff import auth
from bot.staff.oidc import OidcClient, OidcError, unseal
from bot.staff.oidc import seal as seal_pending
from bot.staff.oidc_accounts import sign_in
from bot.staff.oidc_groups import GroupMapping
from bot.tickets.departments import Departments
from bot.web.deps import DbDep, SettingsDep
from bot.web.routers.inbox_auth import LOGIN_CSRF_COOKIE, _login_page, _set_login_cookie, safe_next

router = APIRouter(prefix="/inbox/oidc", include_in_schema=False)
log = logging.getLogger(__name__)
COOKIE = "auskunft_oidc"
COOKIE_PATH = "/inbox/oidc"
MESSAGES = {
    "state": "Die Anmeldung ist abgelaufen oder wurde in einem anderen Browserfenster begonnen. Bitte melden Sie "
             "sich erneut an.",
    "provider": "Der Anmeldedienst hat die Anmeldung nicht bestätigt oder ist gerade nicht erreichbar. Bitte "
                "versuchen Sie es später erneut.",
    "token": "Die Antwort des Anmeldedienstes konnte nicht geprüft werden. Bitte melden Sie sich erneut an; wenn "
             "das wieder geschieht, wenden Sie sich bitte an Ihre IT.",
    "no_group": "Ihr Dienstkonto ist für den Posteingang nicht freigegeben. Bitte wenden Sie sich an Ihre IT, damit "
                "Sie der passenden Gruppe zugeordnet werden.",
    "disabled": "Ihr Zugang zum Posteingang ist gesperrt. Bitte wenden Sie sich an Ihre Leitung.",
}
STATUS = {"state": 400, "provider": 502, "token": 400, "no_group": 403, "disabled": 403}


@dataclass(frozen=True)
class OidcSetup:
    """The relying party and the group mapping of a web service with sign-in through the identity provider."""

    client: OidcClient
    mapping: GroupMapping


def build(settings: Settings, departments: Departments, agencies: Agencies) -> Optional[OidcSetup]:
    """The sign-in of ``settings`` (None without ``oidc_issuer``); the group mapping is checked now.

    Raises:
        GroupMappingError: the group mapping file is invalid (the message names the group and value).
    """
    if not settings.oidc_issuer or settings.oidc_client_secret is None:
        return None
    mapping = GroupMapping.load(settings.oidc_groups_file, departments.keys(), list(agencies.by_key))
    client = OidcClient(settings.oidc_issuer, settings.oidc_client_id,
                        settings.oidc_client_secret.get_secret_value(), settings.oidc_groups_claim)
    return OidcSetup(client, mapping)


def setup_of(request: Request) -> OidcSetup:
    """The app's sign-in setup; where none is configured, a redirect (303) to the password login."""
    setup: Optional[OidcSetup] = getattr(request.app.state, "oidc", None)
    if setup is None:
        raise HTTPException(status.HTTP_303_SEE_OTHER, detail="Die Anmeldung mit dem Dienstkonto ist nicht "
                            "eingerichtet.", headers={"Location": "/inbox/login?next=%2Finbox"})
    return setup


def redirect_uri(request: Request, settings: Settings) -> str:
    """The callback URL registered at the provider."""
    return settings.oidc_redirect_uri or str(request.base_url).rstrip("/") + COOKIE_PATH + "/callback"


def _refused(request: Request, next_url: str, err: OidcError) -> Response:
    log.warning("staff sign-in with the identity provider refused (%s): %s", err.code, err)
    response = _login_page(request, next_url, MESSAGES[err.code], status_code=STATUS[err.code])
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


@router.get("/start")
def start(request: Request, settings: SettingsDep,
          next_url: Annotated[str, Query(alias="next", max_length=500)] = "/inbox") -> Response:
    """Send the browser to the identity provider."""
    setup = setup_of(request)
    try:
        url, pending = setup.client.begin(redirect_uri(request, settings), safe_next(next_url))
    except OidcError as err:
        return _refused(request, next_url, err)
    response = RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(COOKIE, seal_pending(pending, setup.client.cookie_key()), max_age=600, path=COOKIE_PATH,
                        httponly=True, samesite="lax", secure=settings.cookies_secure)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/callback")
def callback(request: Request, db: DbDep, settings: SettingsDep,
             code: Annotated[str, Query(max_length=2000)] = "", state: Annotated[str, Query(max_length=200)] = "",
             error: Annotated[str, Query(max_length=200)] = "",
             iss: Annotated[str, Query(max_length=500)] = "") -> Response:
    """Check the provider's answer, update the account from its groups and start the session.

    ``iss`` (RFC 9207, sent by providers that support it) must name the configured provider.
    """
    setup = setup_of(request)
    try:
        pending = unseal(request.cookies.get(COOKIE), setup.client.cookie_key(), setup.client.clock())
        if not state or not hmac.compare_digest(state.encode(), pending.state.encode()):
            raise OidcError("state", "the state does not match this browser's sign-in")
        if iss and iss != setup.client.issuer:
            raise OidcError("state", f"the answer comes from issuer {iss[:100]!r}")
        if error or not code:
            raise OidcError("provider", f"the provider answered error {error[:60]!r}" if error else "no code")
        identity = setup.client.finish(code, pending, redirect_uri(request, settings))
        agent = sign_in(db, identity, setup.mapping)
    except OidcError as err:
        return _refused(request, "/inbox", err)
    token, row = auth.start_session(db, agent, settings.agent_session_minutes, settings.session_idle_minutes)
    log.info("staff sign-in with the identity provider: %s", agent.username)
    response = RedirectResponse(safe_next(pending.next_url), status_code=status.HTTP_303_SEE_OTHER)
    _set_login_cookie(response, token, row, settings)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/inbox")
    return response
