"""Work done on a schedule: ticket deliveries to a helpdesk, e-mail notifications, retention.

Run by the web service itself (``background_jobs``, the default) or by ``auskunft serve worker``
(:mod:`bot.web.worker`). Each job takes what is due from the database, so a restart or a second process
loses nothing, and any number of processes may run the jobs at once: ticket deliveries are leased item by
item (:mod:`bot.helpdesk.outbox`), notifications and retention run in one process at a time
(:class:`bot.outbox.turn.Turn`). Failures are logged (without personal data) and retried on the next round.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import timedelta
from typing import Any, Callable, Dict, List, Optional

from sqlalchemy.orm import Session, sessionmaker

from bot.config.settings import Settings
from bot.conversations.erase import TrackerEraser
from bot.helpdesk import Connector, DeliveryWorker
from bot.notifications.mailer import Mailer, SmtpConfig
from bot.notifications.replies import notify_pending
from bot.outbox.turn import Turn
from bot.tickets.departments import Departments
from bot.tickets.retention import purge

log = logging.getLogger(__name__)
RETENTION_EVERY_S = 3600.0


def mailer_from_settings(settings: Settings) -> Optional[Mailer]:
    """The SMTP mailer, or None when no SMTP server is configured."""
    if not settings.smtp_host:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return Mailer(SmtpConfig(settings.smtp_host, settings.smtp_port, settings.mail_from, settings.smtp_user,
                             password, settings.smtp_starttls))


class Jobs:
    """The scheduled jobs of one web app (also callable directly, e.g. right after a reply).

    Args:
        settings: the app's settings (SMTP, public URL, retention).
        sessions: makes database sessions.
        departments: the departments (their names go into notifications).
        eraser: deletes conversations past retention from Rasa's tracker store.
    """

    def __init__(self, settings: Settings, sessions: "sessionmaker[Session]", departments: Departments,
                 eraser: TrackerEraser) -> None:
        self.settings = settings
        self.sessions = sessions
        self.departments = departments
        self.eraser = eraser
        self.mailer = mailer_from_settings(settings)
        base = (settings.public_url or f"http://{settings.host}:{settings.web_port}").rstrip("/")
        self.lookup_url = f"{base}/fall"
        self.extra: List[Callable[[], Any]] = []  # e.g. the helpdesk delivery worker
        self._last_retention = 0.0
        self._notify_lock = threading.Lock()
        self._turns: Dict[str, Turn] = {}
        self.last_ok: Optional[float] = None  # time.monotonic() of the last round in which no job failed

    def deliver_to(self, connector: Connector) -> None:
        """Also deliver queued tickets through ``connector`` in every round (leased for ``lease_seconds``)."""
        if connector.name != "inbox":
            worker = DeliveryWorker(self.sessions, connector, lease=timedelta(seconds=self.settings.lease_seconds))
            self.extra.append(worker.run_once)

    def turn(self, job: str) -> Turn:
        """The turn of ``job`` (one process at a time runs it) in the ticket database."""
        if job not in self._turns:
            with self.sessions() as session:
                engine = session.get_bind()
            self._turns[job] = Turn(engine, job, lease=timedelta(seconds=self.settings.lease_seconds))  # type: ignore[arg-type]
        return self._turns[job]

    def notify(self) -> int:
        """Send pending reply notifications (no-op without SMTP, or while another process has the turn)."""
        if self.mailer is None:
            return 0
        with self._notify_lock, self.turn("notifications").held() as mine:
            if not mine:
                return 0
            with self.sessions() as session:
                return notify_pending(session, self.mailer, self.lookup_url, self.departments.name)

    def notify_soon(self) -> None:
        """Send pending notifications now, in a background thread (after a reply; failures wait for the loop)."""
        def safe() -> None:
            try:
                self.notify()
            except Exception:  # noqa: BLE001 - the scheduled round retries
                log.exception("notification failed; retrying next round")

        threading.Thread(target=safe, daemon=True).start()

    def retention(self, force: bool = False) -> None:
        """Delete what is past retention (at most hourly unless forced)."""
        if not force and time.monotonic() - self._last_retention < RETENTION_EVERY_S:
            return
        with self.turn("retention").held() as mine:
            if not mine:
                return  # another process purges right now
            self._last_retention = time.monotonic()
            with self.sessions() as session:
                purge(session, self.settings.retention_days, self.eraser)

    def run_once(self) -> bool:
        """One round of every job; one failing job does not stop the others. True if none failed."""
        failed = False
        for job in (*self.extra, self.notify, self.retention):
            try:
                job()
            except Exception:  # noqa: BLE001 - keep the loop alive; the traceback goes to the log
                failed = True
                log.exception("background job %s failed; retrying next round", getattr(job, "__name__", job))
        if not failed:
            self.last_ok = time.monotonic()
        return not failed

    async def loop(self, interval: float) -> None:
        """Run the jobs every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.to_thread(self.run_once)
            await asyncio.sleep(interval)
