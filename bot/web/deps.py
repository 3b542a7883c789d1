"""FastAPI dependencies, as type aliases for the routers."""

from __future__ import annotations

import hmac
from typing import Iterator

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from bot.settings import Settings

_bearer = HTTPBearer(auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings  # type: ignore[no-any-return]


def get_db(request: Request) -> Iterator[Session]:
    """One database session per request."""
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.close()


def require_token(
    request: Request, credentials: HTTPAuthorizationCredentials = Depends(_bearer)
) -> None:
    """Refuse requests without the service's bearer token (compared in constant time)."""
    expected: str = request.app.state.api_token
    given = credentials.credentials if credentials else ""
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong API token (send 'Authorization: Bearer <AUSKUNFT_API_TOKEN>')",
            headers={"WWW-Authenticate": "Bearer"},
        )
