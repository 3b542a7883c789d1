"""Deliver tickets as signed JSON webhooks to any system that can receive an HTTP POST.

The request::

    POST <AUSKUNFT_WEBHOOK_URL>
    Content-Type: application/json; charset=utf-8
    X-Auskunft-Timestamp: 1718000000
    X-Auskunft-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
    Idempotency-Key: AK-7KQ2-M9XD

    {"event": "ticket.created", "case_number": "AK-7KQ2-M9XD", "ticket": {...TicketPayload.to_dict()...}}

What a receiver must do:

1. Verify the signature over the *raw* body bytes (before parsing JSON) with :func:`verify_signature` or its
   equivalent: HMAC-SHA256 with the shared secret over ``timestamp + "." + body``, compared in constant time, and
   reject timestamps more than 5 minutes away from its own clock (replays).
2. Deduplicate on ``Idempotency-Key`` (the case number): a ticket is sent again whenever an earlier attempt timed
   out or failed, so the same key can arrive more than once. Answer a repeat with 2xx, as for the first delivery.
3. Answer 2xx once the ticket is stored (optionally JSON ``{"id": "<your reference>"}``). 5xx, 408, 429 and
   timeouts make Auskunft try again with growing pauses; any other 4xx marks the delivery failed for a person to
   look at (no automatic retries).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Callable, Optional, Union

import httpx

from bot.helpdesk.base import TicketPayload, check_response, transport_failure

TIMESTAMP_HEADER = "X-Auskunft-Timestamp"
SIGNATURE_HEADER = "X-Auskunft-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT = "ticket.created"
SERVICE = "Webhook"


def _bytes(value: Union[str, bytes]) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def sign(secret: Union[str, bytes], timestamp: Union[int, str], body: bytes) -> str:
    """The signature header value: ``sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>``."""
    digest = hmac.new(_bytes(secret), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: Union[str, bytes], timestamp: Union[int, str], body: bytes, signature: str,
                     tolerance_s: float = 300, now: Optional[float] = None) -> bool:
    """Check a webhook's signature (for receivers).

    Args:
        secret: the shared secret (``AUSKUNFT_WEBHOOK_SECRET``).
        timestamp: the ``X-Auskunft-Timestamp`` header (unix seconds).
        body: the raw request body, exactly as received.
        signature: the ``X-Auskunft-Signature`` header (``sha256=<hex>``).
        tolerance_s: how far the timestamp may be from ``now``, either way.
        now: the current unix time (default: ``time.time()``).

    Returns:
        True only for a correct signature over this body and a fresh timestamp.
    """
    try:
        sent_at = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_s:
        return False
    expected = sign(secret, sent_at, body)
    try:
        return hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("ascii"))
    except UnicodeEncodeError:
        return False


class WebhookConnector:
    """POSTs each ticket, signed, to one URL.

    Args:
        url: the receiver, e.g. ``https://intranet.musterstadt.de/hooks/auskunft``.
        secret: the shared HMAC secret (never logged).
        client: an ``httpx.Client`` to use (default: a new one with ``timeout``).
        timeout: seconds per request.
        clock: unix time source for the timestamp header.
    """

    name = "webhook"

    def __init__(self, url: str, secret: str, client: Optional[httpx.Client] = None, timeout: float = 10.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self._secret = secret.encode("utf-8")
        self._client = client if client is not None else httpx.Client(timeout=timeout)
        self._timeout = timeout
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookConnector({self.url!r})"

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    @staticmethod
    def body(ticket: TicketPayload) -> bytes:
        """The request body (UTF-8 JSON)."""
        document = {"event": EVENT, "case_number": ticket.case_number, "ticket": ticket.to_dict()}
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def deliver(self, ticket: TicketPayload) -> Optional[str]:
        """POST the signed ticket (a fresh timestamp and signature on every attempt).

        Returns:
            The receiver's reference: ``id``, ``ref`` or ``reference`` of a JSON object answer, if any.

        Raises:
            DeliveryError: unreachable, timeout, 5xx, 408 or 429.
            DeliveryRejected: any other non-2xx answer.
        """
        body = self.body(ticket)
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            IDEMPOTENCY_HEADER: ticket.idempotency_key,
            "User-Agent": "Auskunft-Helpdesk/1",
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as err:
            raise transport_failure(err, SERVICE) from None
        check_response(response, SERVICE)
        return _reference(response)


def _reference(response: httpx.Response) -> Optional[str]:
    try:
        data: Any = response.json()
    except ValueError:
        return None
    if isinstance(data, dict):
        for key in ("id", "ref", "reference"):
            if data.get(key) not in (None, ""):
                return str(data[key])[:200]
    return None
