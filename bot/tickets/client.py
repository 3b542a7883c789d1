"""Deliver tickets to the ticket API; what cannot be delivered now waits in a local outbox.

The case number is made here, before delivery, so the citizen gets it even while the
ticket service is down, and a repeated delivery of the same ticket is recognised by
the service (idempotent create) instead of creating a duplicate.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Dict, Optional

import httpx

log = logging.getLogger(__name__)
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_case_number() -> str:
    """A random, unambiguous case number such as ``AK-7KQ2-M9XD``."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"AK-{chars[:4]}-{chars[4:]}"


class Outbox:
    """Tickets not yet delivered, in a SQLite file (survives restarts of the action server).

    Args:
        path: the SQLite file.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS outbox (case_number TEXT PRIMARY KEY, payload TEXT NOT NULL, "
                       "attempts INTEGER NOT NULL DEFAULT 0, next_try REAL NOT NULL, last_error TEXT)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def put(self, payload: Dict[str, Any]) -> None:
        """Keep a ticket for later delivery."""
        with self._lock, self._connect() as db:
            db.execute("INSERT OR IGNORE INTO outbox (case_number, payload, next_try) VALUES (?, ?, ?)",
                       (payload["case_number"], json.dumps(payload, ensure_ascii=False), time.time()))

    def due(self, now: Optional[float] = None) -> list[Dict[str, Any]]:
        """Tickets whose next delivery attempt is due."""
        with self._lock, self._connect() as db:
            rows = db.execute("SELECT payload FROM outbox WHERE next_try <= ? ORDER BY rowid",
                              (now if now is not None else time.time(),)).fetchall()
        return [json.loads(row[0]) for row in rows]

    def done(self, case_number: str) -> None:
        """Forget a delivered ticket."""
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM outbox WHERE case_number = ?", (case_number,))

    def failed(self, case_number: str, error: str) -> None:
        """Schedule the next attempt with exponential backoff (5 s doubling, at most 10 min)."""
        with self._lock, self._connect() as db:
            row = db.execute("SELECT attempts FROM outbox WHERE case_number = ?", (case_number,)).fetchone()
            attempts = (row[0] if row else 0) + 1
            delay = min(600.0, 5.0 * 2 ** (attempts - 1))
            db.execute("UPDATE outbox SET attempts = ?, next_try = ?, last_error = ? WHERE case_number = ?",
                       (attempts, time.time() + delay, error[:500], case_number))

    def __len__(self) -> int:
        with self._lock, self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


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
        """Deliver now if possible and return the service's answer; otherwise keep it in the outbox (None)."""
        try:
            return self.deliver(payload)
        except httpx.HTTPError as err:
            log.warning("ticket %s queued for later delivery: %s", payload["case_number"], type(err).__name__)
            self.outbox.put(payload)
            self.outbox.failed(payload["case_number"], str(err))
            self.start_worker()
            return None

    def flush(self) -> int:
        """Try to deliver every due ticket once; returns how many were delivered."""
        delivered = 0
        for payload in self.outbox.due():
            try:
                self.deliver(payload)
            except httpx.HTTPError as err:
                self.outbox.failed(payload["case_number"], str(err))
                continue
            self.outbox.done(payload["case_number"])
            delivered += 1
            log.info("queued ticket %s delivered", payload["case_number"])
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
