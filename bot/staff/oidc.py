"""OpenID Connect sign-in of staff: the authorization-code flow with PKCE, ``state`` and ``nonce``.

:meth:`OidcClient.begin` gives the provider's authorization URL and the :class:`Pending` values the browser keeps in a
signed cookie (:func:`seal`) until it comes back; :meth:`OidcClient.finish` exchanges the code (with the PKCE
verifier and the client secret) and checks the ID token: its signature against the provider's JWKS (from the
discovery document; fetched again once when a token names an unknown key), the algorithm (asymmetric only), ``iss``,
``aud`` (and ``azp``), ``exp``, ``iat`` and ``nonce``. The groups come from the ID token's groups claim, or from the
UserInfo endpoint when the ID token has none (its ``sub`` must match). Authlib makes the PKCE pair and the random
values; its JOSE library (joserfc) checks the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from bot.errors import AuskunftError

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
LEEWAY_S = 60
DISCOVERY_TTL_S = 3600.0
JWKS_REFRESH_S = 60.0
PENDING_MAX_AGE_S = 600


class OidcError(AuskunftError):
    """A sign-in that is refused; ``code`` says why (for the German message), the text is for the log.

    Codes: ``state`` (the answer does not belong to this browser's sign-in, or it is too old), ``provider`` (the
    provider reported an error or cannot be reached), ``token`` (the ID token failed a check), ``no_group`` (no
    mapped group), ``disabled`` (the account is disabled).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Pending:
    """What the browser keeps between the redirect to the provider and its way back."""

    state: str
    nonce: str
    verifier: str
    next_url: str
    started: int


@dataclass(frozen=True)
class Identity:
    """Who signed in, from the checked ID token (and UserInfo)."""

    subject: str  # "<issuer> <sub>", unique per person and provider
    username: str  # preferred_username, else the e-mail's local part, else sub
    display_name: str
    groups: Tuple[str, ...]


def seal(pending: Pending, key: bytes) -> str:
    """``pending`` as a cookie value signed with ``key`` (HMAC-SHA256)."""
    body = base64.urlsafe_b64encode(json.dumps(asdict(pending), separators=(",", ":")).encode()).decode()
    return f"{body}.{hmac.new(key, body.encode(), hashlib.sha256).hexdigest()}"


def unseal(value: Optional[str], key: bytes, now: float, max_age: int = PENDING_MAX_AGE_S) -> Pending:
    """The :class:`Pending` of a cookie made by :func:`seal`.

    Raises:
        OidcError: ``state``: no cookie, a wrong signature, or older than ``max_age`` seconds.
    """
    body, _, signature = (value or "").rpartition(".")
    expected = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    if not body or not hmac.compare_digest(signature.encode(), expected.encode()):
        raise OidcError("state", "no or a forged sign-in cookie")
    pending = Pending(**json.loads(base64.urlsafe_b64decode(body.encode())))
    if not 0 <= now - pending.started <= max_age:
        raise OidcError("state", "the sign-in took too long")
    return pending


class OidcClient:
    """One relying party at one provider.

    Args:
        issuer: the provider's issuer URL, exactly as its discovery document says.
        client_id: this service's client id at the provider.
        client_secret: its secret (sent to the token endpoint only, HTTP Basic).
        groups_claim: the claim that lists the person's groups.
        http: the HTTP client (tests pass their own); timeouts of 10 s by default.
        clock: seconds since the epoch.
    """

    def __init__(self, issuer: str, client_id: str, client_secret: str, groups_claim: str = "groups",
                 http: Optional[httpx.Client] = None, clock: Callable[[], float] = time.time) -> None:
        self.issuer, self.client_id, self._secret = issuer, client_id, client_secret
        self.groups_claim = groups_claim
        self.http = http or httpx.Client(timeout=10.0, follow_redirects=False)
        self.clock = clock
        self._meta: Optional[Dict[str, Any]] = None
        self._meta_at = 0.0
        self._keys: Optional[KeySet] = None
        self._keys_at = 0.0

    def cookie_key(self) -> bytes:
        """The key that signs the sign-in cookie (the same in every process that shares the client secret)."""
        return hashlib.sha256(b"auskunft-oidc-pending\0" + self._secret.encode()).digest()

    def metadata(self) -> Dict[str, Any]:
        """The provider's discovery document (kept for an hour).

        Raises:
            OidcError: ``provider``: unreachable, not JSON, or its ``issuer`` is not the configured one.
        """
        if self._meta is None or self.clock() - self._meta_at > DISCOVERY_TTL_S:
            meta = self._get_json(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
            if meta.get("issuer") != self.issuer:
                raise OidcError("provider", f"the discovery document names issuer {meta.get('issuer')!r}, "
                                f"not the configured oidc_issuer {self.issuer!r}")
            for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(meta.get(field), str):
                    raise OidcError("provider", f"the discovery document has no {field}")
            self._meta, self._meta_at = meta, self.clock()
        return self._meta

    def begin(self, redirect_uri: str, next_url: str) -> Tuple[str, Pending]:
        """The provider's authorization URL for a new sign-in, and what the browser keeps until it returns."""
        pending = Pending(state=generate_token(32), nonce=generate_token(32), verifier=generate_token(64),
                          next_url=next_url, started=int(self.clock()))
        query = {"response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
                 "scope": "openid profile email", "state": pending.state, "nonce": pending.nonce,
                 "code_challenge": create_s256_code_challenge(pending.verifier), "code_challenge_method": "S256"}
        endpoint = self.metadata()["authorization_endpoint"]
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}", pending

    def finish(self, code: str, pending: Pending, redirect_uri: str) -> Identity:
        """Exchange the code and check the ID token (see the module).

        Raises:
            OidcError: ``provider`` (the token endpoint refused or is unreachable) or ``token`` (a check failed).
        """
        tokens = self._post_token({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                                   "code_verifier": pending.verifier})
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("token", "the token endpoint returned no id_token")
        claims = self.verify_id_token(id_token, pending.nonce)
        groups = claims.get(self.groups_claim)
        if groups is None and isinstance(tokens.get("access_token"), str) and self.metadata().get("userinfo_endpoint"):
            info = self._userinfo(tokens["access_token"])
            if info.get("sub") != claims["sub"]:
                raise OidcError("token", "the UserInfo answer is about another subject")
            claims = {**info, **claims}
            groups = info.get(self.groups_claim)
        return _identity(self.issuer, claims, groups)

    def verify_id_token(self, id_token: str, nonce: str) -> Dict[str, Any]:
        """The claims of an ID token whose signature, algorithm, issuer, audience, times and nonce are right.

        Raises:
            OidcError: ``token``, naming the check that failed.
        """
        try:
            try:
                token = jwt.decode(id_token, self._key_set(), algorithms=list(ALGORITHMS))
            except InvalidKeyIdError:  # the provider may have rotated its keys
                token = jwt.decode(id_token, self._key_set(refresh=True), algorithms=list(ALGORITHMS))
            jwt.JWTClaimsRegistry(now=int(self.clock()), leeway=LEEWAY_S,
                                  iss={"essential": True, "value": self.issuer},
                                  sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
                                  nonce={"essential": True, "value": nonce}).validate(token.claims)
        except JoseError as err:
            raise OidcError("token", f"ID token refused: {err}") from err
        claims: Dict[str, Any] = dict(token.claims)
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.client_id not in audiences:
            raise OidcError("token", f"ID token refused: it is for audience {audience!r}, not {self.client_id!r}")
        if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != self.client_id:
            raise OidcError("token", f"ID token refused: authorized party {claims.get('azp')!r}")
        return claims

    def _key_set(self, refresh: bool = False) -> KeySet:
        now = self.clock()
        if self._keys is None or (refresh and now - self._keys_at > JWKS_REFRESH_S):
            try:
                self._keys = KeySet.import_key_set(self._get_json(self.metadata()["jwks_uri"]))  # type: ignore[arg-type]
            except (JoseError, ValueError, KeyError) as err:
                raise OidcError("provider", f"the provider's JWKS cannot be read: {err}") from err
            self._keys_at = now
        return self._keys

    def _get_json(self, url: str, **kwargs: Any) -> Dict[str, Any]:
        try:
            answer = self.http.get(url, **kwargs)
            answer.raise_for_status()
            data = answer.json()
        except (httpx.HTTPError, ValueError) as err:
            raise OidcError("provider", f"GET {url} failed: {err}") from err
        if not isinstance(data, dict):
            raise OidcError("provider", f"GET {url}: expected a JSON object")
        return data

    def _post_token(self, form: Dict[str, str]) -> Dict[str, Any]:
        url = self.metadata()["token_endpoint"]
        try:
            answer = self.http.post(url, data=form, auth=(self.client_id, self._secret),
                                    headers={"Accept": "application/json"})
            data = answer.json()
        except (httpx.HTTPError, ValueError) as err:
            raise OidcError("provider", f"POST {url} failed: {err}") from err
        if answer.status_code != 200 or not isinstance(data, dict):
            error = data.get("error") if isinstance(data, dict) else None
            raise OidcError("provider", f"the token endpoint refused the code: {answer.status_code} {error!r}")
        return data

    def _userinfo(self, access_token: str) -> Dict[str, Any]:
        return self._get_json(self.metadata()["userinfo_endpoint"],
                              headers={"Authorization": f"Bearer {access_token}"})


def _identity(issuer: str, claims: Dict[str, Any], groups: Any) -> Identity:
    """The :class:`Identity` of checked claims."""
    names: List[str] = [g for g in groups if isinstance(g, str)] if isinstance(groups, list) else []
    email = claims.get("email") if isinstance(claims.get("email"), str) else ""
    username = claims.get("preferred_username") or (email.partition("@")[0] if email else "") or claims["sub"]
    display = claims.get("name") or username
    return Identity(subject=f"{issuer} {claims['sub']}"[:255], username=str(username), display_name=str(display),
                    groups=tuple(names))
