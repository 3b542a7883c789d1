"""The web side of :mod:`bot.limits`: the address a request counts under, and the 429 answer when a limit is reached.

The answer is JSON like every API error (``{"detail": ...}``) with ``Retry-After`` in seconds; the widget shows
its own polite message in the citizen's language and keeps the unsent message for "send again".
"""

from __future__ import annotations

from fastapi import HTTPException, Request, status

from bot.limits.base import Decision
from bot.limits.policy import CitizenLimits

TOO_MANY = ("too many requests from your network or in this conversation right now; nothing was lost: please send "
            "it again in {seconds} seconds")


def address_key(limits: CitizenLimits, request: Request) -> str:
    """The pseudonym the request's client address is counted under (behind trusted proxies: the forwarded one)."""
    return limits.address_key(request.client.host if request.client else None, request.headers.get("x-forwarded-for"))


def too_many_requests(decision: Decision, detail: str = TOO_MANY) -> HTTPException:
    """The 429 answer for a refused ``decision`` (``detail`` may name ``{seconds}``)."""
    return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                         detail=detail.format(seconds=decision.retry_after_header),
                         headers={"Retry-After": decision.retry_after_header})
