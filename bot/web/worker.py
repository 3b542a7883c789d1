"""The background worker (``auskunft serve worker``): the web service's scheduled jobs in a process of their own.

Ticket deliveries to the helpdesk, reply notifications by e-mail and retention (:class:`bot.web.background.Jobs`),
every ``worker_seconds``. Run it beside web replicas started with ``AUSKUNFT_BACKGROUND_JOBS=false``, so that N
replicas do not do the work N times; two workers (or a worker and a web process with background jobs) are safe:
deliveries are leased, notifications and retention run in one process at a time.

Readiness: ``GET /health`` on ``internal_host:worker_port`` answers 200 while the last round in which no job failed
is recent (the database was reachable), else 503 with the reason.

Run with ``python -m bot.web.worker`` (what ``auskunft serve worker`` starts).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional

from bot.config.settings import PROJECT_ROOT, Settings, get_settings
from bot.conversations.erase import TrackerEraser
from bot.db.engine import make_engine, session_factory
from bot.helpdesk import connector_from_settings
from bot.privacy.log_filter import install_redacting_filter
from bot.run.log_format import configure_logging
from bot.run.runtime_env import child_env
from bot.tickets.departments import Departments
from bot.web.background import Jobs

log = logging.getLogger(__name__)


def build_jobs(settings: Settings) -> Jobs:
    """The jobs with the database, departments, tracker eraser and helpdesk of ``settings`` (fails loudly).

    Raises:
        ValueError: an invalid configuration (departments, helpdesk).
        OSError: a configuration file cannot be read.
    """
    sessions = session_factory(make_engine(settings.resolved_database_url))
    endpoints = settings.endpoints if settings.endpoints.startswith("/") else str(PROJECT_ROOT / settings.endpoints)
    eraser = TrackerEraser.from_endpoints(Path(endpoints), child_env(settings))
    jobs = Jobs(settings, sessions, Departments.load(settings.departments_file), eraser)
    jobs.deliver_to(connector_from_settings(settings))
    return jobs


def health(jobs: Jobs, interval: float, now: Optional[float] = None) -> "tuple[int, str]":
    """The readiness answer: 200 while the last round without a failed job is at most three rounds (+30 s) old."""
    now = time.monotonic() if now is None else now
    if jobs.last_ok is None:
        return 503, "no round has completed yet (the database may be unreachable; see the worker's log)"
    age = now - jobs.last_ok
    if age > 3 * interval + 30:
        return 503, f"the last round without errors was {age:.0f} s ago; see the worker's log"
    return 200, "ok"


def _handler(jobs: Jobs, interval: float) -> type:
    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            code, text = health(jobs, interval) if self.path == "/health" else (404, "only GET /health")
            body = json.dumps({"status": "ok" if code == 200 else "unavailable", "detail": text}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return  # probes every few seconds: no access log

    return Health


def run(settings: Settings, stop: Optional[threading.Event] = None) -> int:
    """Run rounds every ``worker_seconds`` until SIGTERM/SIGINT (or ``stop``); serve ``/health`` meanwhile."""
    jobs = build_jobs(settings)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())  # type: ignore[union-attr]
    server = ThreadingHTTPServer((settings.internal_host, settings.worker_port),
                                 _handler(jobs, settings.worker_seconds))
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    log.info("worker running: a round every %.1f s; readiness at http://%s:%d/health", settings.worker_seconds,
             settings.internal_host, settings.worker_port)
    try:
        while not stop.is_set():
            jobs.run_once()
            stop.wait(settings.worker_seconds)
    finally:
        server.shutdown()
        server.server_close()
    log.info("worker stopped")
    return 0


def main() -> int:
    """Entry point of ``python -m bot.web.worker``."""
    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_redacting_filter()  # personal data never reaches the worker's log
    configure_logging(settings.log_format, "worker")
    return run(settings)


if __name__ == "__main__":
    raise SystemExit(main())
