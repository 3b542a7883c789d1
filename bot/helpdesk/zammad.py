"""Deliver tickets to Zammad through its REST API.

API reference (checked against the Zammad documentation and its ``TicketsController``):

* https://docs.zammad.org/en/latest/api/intro.html — token auth: ``Authorization: Token token=<token>``
* https://docs.zammad.org/en/latest/api/ticket/index.html — ``POST /api/v1/tickets`` with ``title``, ``group`` (by
  name), ``customer_id`` (``"guess:<email>"`` looks the customer up by e-mail or creates them; needs the
  ``ticket.agent`` permission), ``article`` {``subject``, ``body``, ``type``, ``internal``, ``content_type``,
  ``sender``} and ``note``; answers ``201`` with the ticket (``id``, ``number``, ...). ``GET
  /api/v1/tickets/search?query=...&limit=...`` (``expand=true``: a list of tickets; otherwise
  ``{"tickets": [ids], "assets": {"Ticket": {...}}}``).
* https://docs.zammad.org/en/latest/api/ticket/articles.html — article ``type`` and ``sender``; the docs ask to set
  ``sender: "Customer"`` explicitly when creating a ticket on behalf of a customer.

Zammad has no idempotency key. The case number is put at the start of the title (``[AK-7KQ2-M9XD] ...``) and a
ticket search for it runs before every create, so a retry after a timeout (Zammad may have created the ticket
although we never saw its answer) finds the first ticket instead of making a second one. Zammad's search index is
updated asynchronously, so after such an ambiguous failure the next attempt waits ``ambiguous_retry_s`` at least.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

import httpx

from bot.helpdesk.base import DeliveryError, DeliveryRejected, TicketPayload, check_response, transport_failure

#: Customer for citizens who left no e-mail address (Zammad needs a customer; ``guess:`` creates it once).
DEFAULT_CUSTOMER = "guess:buergerservice-chat@auskunft.invalid"
SERVICE = "Zammad"


class ZammadConnector:
    """Creates one Zammad ticket per case number.

    Args:
        base_url: the Zammad instance, e.g. ``https://helpdesk.musterstadt.de``.
        token: an access token of an agent with ``ticket.agent`` in ``group`` (never logged).
        group: the Zammad group (by name) new tickets go to.
        client: an ``httpx.Client`` to use (default: a new one with ``timeout``).
        timeout: seconds per request.
        fallback_customer: ``customer_id`` when the citizen left no e-mail address.
        ambiguous_retry_s: wait at least this long after a timeout on create before trying again.
    """

    name = "zammad"

    def __init__(self, base_url: str, token: str, group: str, client: Optional[httpx.Client] = None,
                 timeout: float = 10.0, fallback_customer: str = DEFAULT_CUSTOMER,
                 ambiguous_retry_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.group = group
        self.fallback_customer = fallback_customer
        self.ambiguous_retry_s = ambiguous_retry_s
        self._headers = {"Authorization": f"Token token={token}", "Accept": "application/json"}
        self._client = client if client is not None else httpx.Client(timeout=timeout)
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"ZammadConnector({self.base_url!r}, group={self.group!r})"

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def deliver(self, ticket: TicketPayload) -> Optional[str]:
        """Create the ticket unless a ticket with this case number already exists.

        Returns:
            The Zammad ticket number (``number``; its ``id`` if there is no number).

        Raises:
            DeliveryError: Zammad unreachable, a timeout or 5xx/429.
            DeliveryRejected: 401/403 (token), 422 (e.g. unknown group or invalid e-mail) and other 4xx.
        """
        existing = self.find(ticket.case_number)
        if existing is not None:
            return existing
        try:
            response = self._client.post(f"{self.base_url}/api/v1/tickets", json=self.ticket_body(ticket),
                                         headers=self._headers, timeout=self._timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout) as err:
            raise transport_failure(err, SERVICE) from None  # never reached Zammad: nothing was created
        except httpx.HTTPError as err:  # the request may have arrived: give the search index time
            failure = transport_failure(err, SERVICE)
            failure.retry_after = self.ambiguous_retry_s
            raise failure from None
        try:
            check_response(response, SERVICE)
        except DeliveryError as err:  # a proxy's 502/504 may hide a created ticket, too
            err.retry_after = max(err.retry_after or 0.0, self.ambiguous_retry_s)
            raise
        try:
            return _reference(response.json())
        except ValueError:  # created, but the answer is unreadable: delivered without a reference
            return None

    def find(self, case_number: str) -> Optional[str]:
        """The reference of the ticket whose title carries ``[case_number]``, if Zammad has one."""
        try:
            response = self._client.get(f"{self.base_url}/api/v1/tickets/search", headers=self._headers,
                                        params={"query": case_number, "limit": 10, "expand": "true"},
                                        timeout=self._timeout)
        except httpx.HTTPError as err:
            raise transport_failure(err, SERVICE) from None
        check_response(response, SERVICE)
        marker = f"[{case_number}]"
        for found in _search_hits(_json(response)):
            if marker in str(found.get("title", "")):
                return _reference(found)
        return None

    def ticket_body(self, ticket: TicketPayload) -> Dict[str, Any]:
        """The JSON for ``POST /api/v1/tickets``."""
        title = ticket.title()
        return {
            "title": title,
            "group": self.group,
            "customer_id": f"guess:{ticket.email}" if ticket.email else self.fallback_customer,
            "article": {
                "subject": title,
                "body": ticket.as_text(),
                "type": "web",
                "sender": "Customer",
                "internal": False,
                "content_type": "text/plain",
            },
            "note": f"Auskunft-Chatbot, Vorgang {ticket.case_number}, Grund: {ticket.reason}"[:250],
        }


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise DeliveryRejected(f"{SERVICE} answered HTTP {response.status_code} without JSON",
                               status=response.status_code) from None


def _search_hits(data: Any) -> Iterable[Dict[str, Any]]:
    """Tickets in a search answer: a list (``expand=true``) or ``{"tickets": [...], "assets": {"Ticket": {}}}``."""
    if isinstance(data, list):
        return [item for item in data if isinstance(item, dict)]
    if isinstance(data, dict):
        assets = (data.get("assets") or {}).get("Ticket") or {}
        return [assets[key] for key in (str(i) for i in data.get("tickets") or []) if isinstance(assets.get(key), dict)]
    return []


def _reference(ticket: Any) -> Optional[str]:
    if not isinstance(ticket, dict):
        return None
    value = ticket.get("number") or ticket.get("id")
    return str(value) if value is not None else None
