"""Everything the web app holds while it runs, typed and built once by :func:`bot.web.app.create_app`.

Routers never read it directly: they ask for its parts through the dependencies in :mod:`bot.web.deps`,
which tests replace with ``app.dependency_overrides``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config.agencies import Agencies
from bot.config.settings import PROJECT_ROOT, Settings
from bot.conversations.erase import TrackerEraser
from bot.db.engine import make_engine, session_factory
from bot.helpdesk import Connector, connector_from_settings, enqueue
from bot.limits.policy import CitizenLimits
from bot.limits.stores import limiter_for
from bot.run.runtime_env import api_token, child_env, vector_key
from bot.staff.throttle import LoginThrottle
from bot.tickets.departments import Departments
from bot.tickets.models import Reply, Ticket
from bot.tickets.office_hours import OfficeHours
from bot.web.admission import AdmissionGate
from bot.web.api_auth import warn_about_legacy_token
from bot.web.background import Jobs
from bot.web.editor_state import EditorResources
from bot.web.query_vectors import QueryVectors


@dataclass
class WebServices:
    """The web app's settings, database, configuration, hooks and caches.

    Attributes:
        settings: the settings the app was built with.
        engine: the ticket database.
        sessions: makes one database session (per request, per job).
        api_token: the legacy bearer token of the ticket and feedback API (every scope; see
            :mod:`bot.web.api_auth`).
        eraser: deletes a conversation from Rasa's tracker store ("delete my conversation", retention).
        departments: the departments tickets go to.
        agencies: the agencies this deployment serves.
        office_hours: when the office answers.
        helpdesk: where new tickets are delivered (``inbox``: nowhere else).
        jobs: the scheduled work (deliveries, notifications, retention).
        login_throttle: the delays after failed inbox logins (per user name and address, in the limits' store).
        editor: the editor pages' searchers, tracker database and analytics cache.
        limits: the limits on the citizen API and the handoff budgets (see :mod:`bot.limits`).
        vectors: embeds messages in micro-batches for Rasa (see :mod:`bot.web.query_vectors`).
        http: the client for Rasa's REST channel; open while the app runs (see :meth:`http_client`).
        admission: the cap on chat turns in flight; made while the app runs, on its event loop (None before).
    """

    settings: Settings
    engine: Engine
    sessions: "sessionmaker[Session]"
    api_token: str
    eraser: TrackerEraser
    departments: Departments
    agencies: Agencies
    office_hours: OfficeHours
    helpdesk: Connector
    jobs: Jobs
    login_throttle: LoginThrottle
    editor: EditorResources
    limits: CitizenLimits
    vectors: Optional[QueryVectors] = None
    http: Optional[httpx.AsyncClient] = None
    admission: Optional[AdmissionGate] = None

    @classmethod
    def build(cls, settings: Settings) -> "WebServices":
        """Open the database and read the configuration; fails loudly on anything invalid.

        Raises:
            ValueError: an invalid or incomplete configuration (agencies, departments, helpdesk, office hours).
            OSError: a configuration file cannot be read.
        """
        engine = make_engine(settings.resolved_database_url)
        sessions = session_factory(engine)
        # Where Rasa keeps trackers, read the way Rasa reads it, so "delete my conversation" deletes there.
        endpoints = settings.endpoints if settings.endpoints.startswith("/") else str(PROJECT_ROOT / settings.endpoints)
        eraser = TrackerEraser.from_endpoints(Path(endpoints), child_env(settings))
        departments = Departments.load(settings.departments_file)
        agencies = settings.agencies()  # fails loudly on a bad agencies.yml
        office_hours = OfficeHours.parse(settings.office_hours, settings.timezone)
        connector = connector_from_settings(settings)  # fails loudly on an incomplete helpdesk configuration
        jobs = Jobs(settings, sessions, departments, eraser)
        jobs.deliver_to(connector)
        limiter = limiter_for(settings, engine)  # one store for the citizen limits and the login delays
        warn_about_legacy_token(settings)
        return cls(settings=settings, engine=engine, sessions=sessions, api_token=api_token(settings), eraser=eraser,
                   departments=departments, agencies=agencies, office_hours=office_hours, helpdesk=connector,
                   jobs=jobs, login_throttle=LoginThrottle(limiter, api_token(settings)),
                   editor=EditorResources(settings, agencies),
                   limits=CitizenLimits.from_settings(settings, limiter, api_token(settings)),
                   vectors=QueryVectors(settings, vector_key(settings)))

    def ticket_created(self, session: Session, ticket: Ticket) -> None:
        """After the ticket API created a ticket: queue it for the helpdesk (the inbox needs nothing)."""
        if self.helpdesk.name != "inbox":
            enqueue(session, ticket, self.helpdesk.name)

    def reply_stored(self, session: Session, ticket: Ticket, reply: Reply) -> None:
        """After an agent's reply was stored: notify the citizen soon (by e-mail, where they left an address).

        Without ``background_jobs`` the worker sends it in its next round.
        """
        if self.settings.background_jobs:
            self.jobs.notify_soon()

    def http_client(self) -> httpx.AsyncClient:
        """The client for Rasa's REST channel.

        Raises:
            RuntimeError: the app is not running (the client is opened in its lifespan).
        """
        if self.http is None:
            raise RuntimeError("the web app is not running: its HTTP client is opened at start-up")
        return self.http

    def close(self) -> None:
        """Release the database connections (the app's and the editor pages')."""
        self.editor.close()
        self.engine.dispose()
