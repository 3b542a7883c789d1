"""Deliver tickets to the ticket API; what cannot be delivered now waits in a local outbox.

The case number is made here, before delivery, so the citizen gets it even while the
ticket service is down, and a repeated delivery of the same ticket is recognised by
the service (idempotent create) instead of creating a duplicate.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, Optional

import httpx
from sqlalchemy import create_engine, inspect

from bot.errors import AuskunftError
from bot.outbox import DEFAULT_POLICY, Outbox

log = logging.getLogger(__name__)
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_case_number() -> str:
    """A random, unambiguous case number such as ``AK-7KQ2-M9XD``."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"AK-{chars[:4]}-{chars[4:]}"


TICKETS = "ticket"
POLICY = replace(DEFAULT_POLICY, max_attempts=sys.maxsize)
"""The shared back-off, but never a dead letter: a citizen's ticket waits however long the web service is down."""


def local_outbox(path: Path) -> Outbox:
    """The action server's outbox: a SQLite file of its own (survives restarts; the web service may be down).

    Tickets left by a release before :mod:`bot.outbox` (a table ``outbox`` in the same file) are moved over.
    """
    outbox = Outbox.sqlite(path, TICKETS, policy=POLICY)
    with outbox.engine.begin() as connection:
        if not inspect(connection).has_table("outbox"):
            return outbox
        old = [json.loads(row[0]) for row in connection.exec_driver_sql("SELECT payload FROM outbox ORDER BY rowid")]
    for payload in old:
        outbox.put(payload["case_number"], payload)
    with outbox.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE outbox")
    log.info("%d queued ticket(s) moved to the new outbox table", len(old))
    return outbox


def actions_outbox(url: str, home: Path) -> Outbox:
    """The action server's outbox: in the database at ``url`` (shared by every replica), else a file in ``home``.

    Args:
        url: a SQLAlchemy URL (``AUSKUNFT_ACTIONS_OUTBOX_URL``, e.g. a PostgreSQL database that every action server
            replica reaches: a ticket queued by a replica that is replaced is delivered by another, leased so that
            only one sends it); empty = :func:`local_outbox` in ``home`` (one action server, on a disk that stays).
        home: ``AUSKUNFT_HOME``.
    """
    if not url:
        return local_outbox(home / "outbox.sqlite3")
    return Outbox(create_engine(url, pool_pre_ping=True, future=True), TICKETS, policy=POLICY)


class HandoffRefused(AuskunftError):
    """The ticket API refused a new ticket: the handoff budget of the citizen's address (or everyone's) is spent.

    Such a ticket is not queued (that would only postpone the flood); the citizen is told to try later.

    Attributes:
        retry_after: seconds until the budget allows a ticket again.
    """

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"handoff budget spent; a ticket is possible again in {retry_after:.0f} s")
        self.retry_after = retry_after


class TicketClient:
    """Creates tickets over HTTP, falling back to the outbox.

    Args:
        base_url: the ticket service, e.g. ``http://127.0.0.1:8000``.
        token: the bearer token.
        outbox: where undeliverable tickets wait.
        timeout: seconds per request.
    """

    def __init__(self, base_url: str, token: str, outbox: Outbox, timeout: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self.outbox = outbox
        self.timeout = timeout
        self._worker: Optional[threading.Thread] = None

    def deliver(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        """POST one ticket; returns the service's answer (queue position, office hours).

        Raises:
            httpx.HTTPError: the service is unreachable or answered with an error.
        """
        response = httpx.post(f"{self.base_url}/api/tickets", json=payload, headers=self._headers,
                              timeout=self.timeout)
        if response.status_code not in (200, 201):
            raise httpx.HTTPStatusError(f"ticket API answered {response.status_code}: {response.text[:200]}",
                                        request=response.request, response=response)
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def post_feedback(self, vote: Dict[str, Any]) -> None:
        """POST one "did this help?" vote to ``/api/feedback``.

        Raises:
            httpx.HTTPError: the service is unreachable or refused the vote.
        """
        response = httpx.post(f"{self.base_url}/api/feedback", json=vote, headers=self._headers, timeout=self.timeout)
        response.raise_for_status()

    def submit(self, payload: Dict[str, Any]) -> bool:
        """Deliver now if possible; otherwise keep it in the outbox. True if delivered now."""
        return self.create(payload) is not None

    def create(self, payload: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """Deliver now if possible and return the service's answer; otherwise keep it in the outbox (None).

        Raises:
            HandoffRefused: the service refused the ticket (429, the handoff budget is spent); nothing is queued.
        """
        try:
            return self.deliver(payload)
        except httpx.HTTPError as err:
            if isinstance(err, httpx.HTTPStatusError) and err.response.status_code == 429:
                try:
                    retry_after = float(err.response.headers.get("retry-after", "60"))
                except ValueError:
                    retry_after = 60.0
                raise HandoffRefused(retry_after) from None
            log.warning("ticket %s queued for later delivery: %s", payload["case_number"], type(err).__name__)
            self.outbox.put(payload["case_number"], payload, error=str(err))
            self.start_worker()
            return None

    def flush(self) -> int:
        """Try to deliver every due ticket once; returns how many were delivered."""
        delivered = 0
        for item in self.outbox.lease(10):  # 10 × the request timeout stays well inside the lease
            try:
                self.deliver(item.payload)
            except httpx.HTTPError as err:
                self.outbox.retry_later(item, str(err))
                continue
            self.outbox.done(item)
            delivered += 1
            log.info("queued ticket %s delivered", item.key)
        return delivered

    def start_worker(self, interval: float = 2.0) -> None:
        """Deliver queued tickets in a background thread until the outbox is empty."""
        if self._worker is not None and self._worker.is_alive():
            return

        def loop() -> None:
            while len(self.outbox):
                self.flush()
                time.sleep(interval)

        self._worker = threading.Thread(target=loop, name="ticket-outbox", daemon=True)
        self._worker.start()
