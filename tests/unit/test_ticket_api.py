"""The ticket API over HTTP (FastAPI test client) on a real database: SQLite, and PostgreSQL where available."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from fastapi.testclient import TestClient

from bot.config.settings import Settings
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.helpers.postgres import DATABASES, drop_postgres, postgres_url
from tests.helpers.ticket_api import AUTH, TOKEN, ticket


@pytest.fixture(params=DATABASES)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'tickets.sqlite3'}" if request.param == "sqlite" else postgres_url()
    settings = Settings(home=tmp_path / "home", database_url=url, api_token=TOKEN)
    with TestClient(create_app(settings)) as test_client:
        yield test_client
    services_of(test_client.app).close()  # type: ignore[arg-type]
    if request.param == "postgresql":
        drop_postgres(url)


def test_create_read_and_list(client: TestClient) -> None:
    created = client.post("/api/tickets", json=ticket(), headers=AUTH)
    assert created.status_code == 201, created.text
    body = client.get("/api/tickets/AK-7KQ2-M9XD", headers=AUTH).json()
    assert body["status"] == "new" and body["candidates"][0]["faq_id"] == "sperrmuell"
    assert body["email"] == "max@example.org"  # contact data given on purpose is kept
    assert "0171" not in body["question"] and "[TELEFON]" in body["question"]
    assert body["transcript"][0]["text"] == "Meine Mail ist [E-MAIL]"
    listed = client.get("/api/tickets", headers=AUTH).json()
    assert [t["case_number"] for t in listed] == ["AK-7KQ2-M9XD"]


def test_create_is_idempotent_and_detects_conflicts(client: TestClient) -> None:
    assert client.post("/api/tickets", json=ticket(), headers=AUTH).status_code == 201
    again = client.post("/api/tickets", json=ticket(), headers=AUTH)
    assert again.status_code == 200 and again.json()["case_number"] == "AK-7KQ2-M9XD"
    assert len(client.get("/api/tickets", headers=AUTH).json()) == 1
    clash = client.post("/api/tickets", json=ticket(conversation_id="other"), headers=AUTH)
    assert clash.status_code == 409


def test_status_workflow_and_replies(client: TestClient) -> None:
    client.post("/api/tickets", json=ticket(), headers=AUTH)
    assert client.patch("/api/tickets/AK-7KQ2-M9XD", json={"status": "in_progress"}, headers=AUTH).status_code == 200
    reply = client.post("/api/tickets/AK-7KQ2-M9XD/replies", json={"author": "Frau A.", "text": "Hallo!"}, headers=AUTH)
    assert reply.status_code == 201
    assert client.get("/api/tickets/AK-7KQ2-M9XD", headers=AUTH).json()["status"] == "waiting"
    closed = client.patch("/api/tickets/AK-7KQ2-M9XD", json={"status": "resolved"}, headers=AUTH).json()
    assert closed["status"] == "resolved" and closed["closed_at"] is not None
    assert client.get("/api/tickets?status=resolved", headers=AUTH).json()[0]["case_number"] == "AK-7KQ2-M9XD"
    assert client.patch("/api/tickets/AK-7KQ2-M9XD", json={"status": "bogus"}, headers=AUTH).status_code == 422


@pytest.mark.parametrize(
    "method, path",
    [("get", "/api/tickets"), ("get", "/api/tickets/AK-7KQ2-M9XD"), ("post", "/api/tickets"),
     ("patch", "/api/tickets/AK-7KQ2-M9XD"), ("post", "/api/tickets/AK-7KQ2-M9XD/replies")],
)
def test_every_route_needs_the_token(client: TestClient, method: str, path: str) -> None:
    assert getattr(client, method)(path).status_code == 401
    assert getattr(client, method)(path, headers={"Authorization": "Bearer wrong"}).status_code == 401


@pytest.mark.parametrize(
    "overrides",
    [{"consent": False}, {"case_number": "123"}, {"language": "fr"}, {"email": "not-an-email"},
     {"question": ""}, {"transcript": [{"role": "hacker", "text": "x"}]}, {"candidates": [{"faq_id": "x"}]}],
)
def test_invalid_tickets_are_rejected(client: TestClient, overrides: Dict[str, Any]) -> None:
    response = client.post("/api/tickets", json=ticket(**overrides), headers=AUTH)
    assert response.status_code == 422
    assert client.get("/api/tickets", headers=AUTH).json() == []


def test_unknown_ticket_and_oversized_body(client: TestClient) -> None:
    assert client.get("/api/tickets/AK-0000-0000", headers=AUTH).status_code == 404
    big = client.post("/api/tickets", content=b"x" * (600 * 1024), headers={**AUTH, "content-type": "application/json"})
    assert big.status_code == 413


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert "/api/tickets" in spec["paths"] and "/api/tickets/{case_number}" in spec["paths"]
    assert "Auskunft" in client.get("/").text


def test_chat_proxy_rejects_bad_messages_before_calling_the_bot(client: TestClient) -> None:
    for message, status in (("", 400), ("x" * 3000, 413), (123, 400)):
        response = client.post("/api/chat", json={"sender": "abcdefgh12345678", "message": message})
        assert response.status_code == status
    assert client.post("/api/chat", json={"sender": "x", "message": "Hallo"}).status_code == 422


def test_chat_proxy_reports_an_unreachable_bot(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", api_token=TOKEN, rasa_port=9)  # nothing listens on port 9
    with TestClient(create_app(settings)) as test_client:
        response = test_client.post("/api/chat", json={"sender": "abcdefgh12345678", "message": "Hallo"})
    assert response.status_code == 503
    assert "not reachable" in response.json()["detail"]
