"""The agent inbox in tests: the agents' password, logging in through the real form, and seeding tickets."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.config.settings import Settings
from bot.tickets import service
from bot.tickets.schemas import CandidateIn, TicketCreate, TranscriptLine
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.helpers.postgres import drop_postgres, postgres_url

PASSWORD = "ein-langes-passwort-123"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def app_on_database(kind: str, tmp_path: Path) -> Iterator[FastAPI]:
    """An app on a real database: ``sqlite`` (a file) or ``postgresql`` (a fresh database, dropped afterwards)."""
    url = f"sqlite:///{tmp_path / 'tickets.sqlite3'}" if kind == "sqlite" else postgres_url()
    made = create_app(Settings(home=tmp_path / "home", database_url=url))
    try:
        yield made
    finally:
        services_of(made).close()
        if url.startswith("postgresql"):
            drop_postgres(url)


def add_ticket(app: FastAPI, case: str, owner: str = "Bürgeramt", language: str = "de", reason: str = "low_confidence",
               created: Optional[datetime] = None, transcript: Optional[List[Dict[str, str]]] = None,
               question: str = "Wie melde ich meinen Wohnsitz um?", **changes: Any) -> None:
    """Store a ticket in the app's database (first candidate owned by ``owner``); ``changes`` set its columns."""
    data = TicketCreate(
        case_number=case, conversation_id=f"conv-{case}", language=language, reason=reason, question=question,
        candidates=[CandidateIn(faq_id="ummeldung", title="Wohnsitz ummelden", score=0.71, owner=owner),
                    CandidateIn(faq_id="personalausweis", title="Personalausweis", score=0.42, owner="Bürgeramt")],
        transcript=[TranscriptLine(**line) for line in (transcript or [
            {"role": "citizen", "text": "Ich bin umgezogen."}, {"role": "bot", "text": "Darf ich weiterleiten?"}])],
        consent=True, email="max@example.org")
    with services_of(app).sessions() as session:
        stored, _ = service.create_ticket(session, data, services_of(app).departments)
        if created is not None:
            stored.created_at = created
        for key, value in changes.items():
            setattr(stored, key, value)
        session.commit()


def login(client: TestClient, username: str, password: str = PASSWORD, next_url: str = "/inbox") -> Any:
    """Post the login form with its double-submit CSRF token, as a browser does; returns the response."""
    page = client.get("/inbox/login")
    token = CSRF.search(page.text)
    assert token is not None
    return client.post("/inbox/login", data={"username": username, "password": password, "csrf_token": token.group(1),
                                             "next": next_url}, follow_redirects=False)


def staff(app: FastAPI, username: str, *departments: str, editor: bool = False, manager: bool = False) -> TestClient:
    """A logged-in client of a new agent (optionally editor or manager) in ``departments``."""
    from bot.staff.auth import create_agent

    with services_of(app).sessions() as session:
        create_agent(session, username, f"Frau {username.title()}", PASSWORD, list(departments), manager,
                     known=services_of(app).departments, is_editor=editor)
    client = TestClient(app)
    assert login(client, username).status_code == 303
    return client
