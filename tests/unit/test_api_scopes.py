"""The API's scopes over HTTP (FastAPI test client, real SQLite): each route needs its scope, agencies limit what a
token sees, reads are written to the ticket's history, the legacy token keeps every scope, the action server's
derived token may only create; the minimum length of the legacy token; which secrets each child process gets."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from bot.config.settings import Settings
from bot.run import runtime_env
from bot.run.services import services
from bot.staff import api_tokens
from bot.tickets import service
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.conftest import ROOT
from tests.helpers.ticket_api import AUTH, TOKEN, ticket

AGENCIES = ROOT / "examples" / "agencies" / "agencies.yml"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}",
                        api_token=TOKEN, rate_limits=False, agencies_file=AGENCIES)
    with TestClient(create_app(settings)) as test_client:
        yield test_client
    services_of(test_client.app).close()  # type: ignore[arg-type]


def bearer(client: TestClient, name: str, *scopes: str, agencies: object = None) -> Dict[str, str]:
    """Create a token in the app's database; its ``Authorization`` header."""
    with services_of(client.app).sessions() as session:  # type: ignore[arg-type]
        token = api_tokens.create(session, name, scopes, agencies, "test")[1]  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


def test_each_route_needs_its_scope(client: TestClient) -> None:
    create_only = bearer(client, "actions-test", "tickets:create", "feedback:create")
    assert client.post("/api/tickets", json=ticket(), headers=create_only).status_code == 201
    vote = {"conversation_id": "conv-1", "faq_id": "sperrmuell", "helpful": True}
    assert client.post("/api/feedback", json=vote, headers=create_only).status_code == 201
    for method, path in (("GET", "/api/tickets"), ("GET", "/api/tickets/AK-7KQ2-M9XD"), ("GET", "/api/feedback"),
                         ("GET", "/api/feedback/summary"), ("GET", "/metrics")):
        refused = client.request(method, path, headers=create_only)
        assert refused.status_code == 403, (path, refused.text)
        assert "lacks the scope" in refused.json()["detail"]
    assert client.patch("/api/tickets/AK-7KQ2-M9XD", json={"status": "resolved"}, headers=create_only) \
        .status_code == 403
    reader = bearer(client, "leser", "tickets:read")
    assert client.post("/api/tickets", json=ticket(case_number="AK-AAAA-BBBB"), headers=reader).status_code == 403
    assert client.patch("/api/tickets/AK-7KQ2-M9XD", json={"status": "resolved"}, headers=reader).status_code == 403
    assert client.get("/api/tickets/AK-7KQ2-M9XD", headers=reader).status_code == 200
    writer = bearer(client, "schreiber", "tickets:write")
    changed = client.patch("/api/tickets/AK-7KQ2-M9XD", json={"status": "in_progress"}, headers=writer)
    assert changed.status_code == 200 and changed.json()["status"] == "in_progress"
    assert client.get("/metrics", headers=bearer(client, "prometheus", "metrics:read")).status_code == 200
    for everything in ("/api/tickets", "/api/feedback", "/metrics"):  # the legacy token keeps every scope
        assert client.get(everything, headers=AUTH).status_code == 200


@pytest.mark.parametrize("header", ["", "Bearer ", "Bearer ak_unbekannt", "Basic dXNlcjpwYXNz",
                                    f"Bearer {TOKEN[:-1]}"])
def test_unknown_tokens_get_401(client: TestClient, header: str) -> None:
    response = client.get("/api/tickets", headers={"Authorization": header} if header else {})
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_revoked_and_rotated_tokens(client: TestClient) -> None:
    old = bearer(client, "integration", "tickets:read")
    assert client.get("/api/tickets", headers=old).status_code == 200
    with services_of(client.app).sessions() as session:  # type: ignore[arg-type]
        new = {"Authorization": f"Bearer {api_tokens.rotate(session, 'integration', 'test')[1]}"}
    assert client.get("/api/tickets", headers=old).status_code == 200  # within the grace period
    assert client.get("/api/tickets", headers=new).status_code == 200
    with services_of(client.app).sessions() as session:  # type: ignore[arg-type]
        api_tokens.revoke(session, "integration", "test")
    assert client.get("/api/tickets", headers=old).status_code == 401
    assert client.get("/api/tickets", headers=new).status_code == 401


def test_agencies_limit_what_a_token_sees_and_reads_are_recorded(client: TestClient) -> None:
    for number, agency in (("AK-AAAA-0001", "adorf"), ("AK-BBBB-0001", "bdorf"), ("AK-MMMM-0001", None)):
        body = ticket(case_number=number, conversation_id=number, agency=agency)
        assert client.post("/api/tickets", json=body, headers=AUTH).status_code == 201
    adorf = bearer(client, "adorf-helpdesk", "tickets:read", "tickets:write", "tickets:create", agencies=["adorf"])
    listed = client.get("/api/tickets", headers=adorf).json()
    assert [t["case_number"] for t in listed] == ["AK-AAAA-0001"]
    assert client.get("/api/tickets/AK-AAAA-0001", headers=adorf).status_code == 200
    for foreign in ("AK-BBBB-0001", "AK-MMMM-0001"):  # another agency's, the default agency's: as if not there
        assert client.get(f"/api/tickets/{foreign}", headers=adorf).status_code == 404
        assert client.patch(f"/api/tickets/{foreign}", json={"status": "resolved"}, headers=adorf).status_code == 404
        assert client.post(f"/api/tickets/{foreign}/replies", json={"author": "x", "text": "y"},
                           headers=adorf).status_code == 404
    refused = client.post("/api/tickets", json=ticket(case_number="AK-BBBB-0002", agency="bdorf"), headers=adorf)
    assert refused.status_code == 403
    default = bearer(client, "stadt", "tickets:read", agencies=["musterstadt"])
    assert [t["case_number"] for t in client.get("/api/tickets", headers=default).json()] == ["AK-MMMM-0001"]
    assert client.get("/api/tickets/AK-BBBB-0001", headers=AUTH).status_code == 200
    with services_of(client.app).sessions() as session:  # type: ignore[arg-type]
        events = {n: [(e.actor, e.kind) for e in service.get_ticket(session, n).events if e.kind == "read"]  # type: ignore[union-attr]
                  for n in ("AK-AAAA-0001", "AK-BBBB-0001", "AK-MMMM-0001")}
    assert events == {"AK-AAAA-0001": [("token:adorf-helpdesk", "read")], "AK-BBBB-0001": [("token:legacy", "read")],
                      "AK-MMMM-0001": []}  # a list is not a read; a refused read is none


def test_the_action_servers_derived_token_may_only_create(client: TestClient) -> None:
    derived = {"Authorization": f"Bearer {runtime_env.derived_actions_token(TOKEN)}"}
    assert client.post("/api/tickets", json=ticket(), headers=derived).status_code == 201
    assert client.get("/api/tickets/AK-7KQ2-M9XD", headers=derived).status_code == 403
    other = {"Authorization": f"Bearer {runtime_env.derived_actions_token('a-different-legacy-token-0123456789')}"}
    assert client.post("/api/tickets", json=ticket(), headers=other).status_code == 401


@pytest.mark.parametrize("name", ["api_token", "actions_api_token", "vector_key"])
def test_short_secrets_are_refused_naming_the_setting(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValidationError, match=f"AUSKUNFT_{name.upper()}.* is 31 characters long; use at least 32"):
        Settings(home=tmp_path, **{name: SecretStr("k" * 31)})  # type: ignore[arg-type]
    assert Settings(home=tmp_path, **{name: SecretStr("k" * 32)})  # type: ignore[arg-type]


def test_each_child_gets_only_the_secrets_it_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scoped = "ak_" + "s" * 43
    monkeypatch.setenv("AUSKUNFT_SMTP_PASSWORD", "smtp-geheim")
    monkeypatch.setenv("AUSKUNFT_API_TOKEN", TOKEN)
    settings = Settings(home=tmp_path, api_token=TOKEN, rasa_workers=2)
    base = runtime_env.child_env(settings)
    assert "AUSKUNFT_API_TOKEN" not in base and "AUSKUNFT_SMTP_PASSWORD" not in base
    envs = {s.name: {**base, **s.env} for s in services(settings)}
    assert set(envs) == {"web", "actions", "rasa", "rasa-2", "kb-watch"}
    for name, env in envs.items():
        leaked = [k for k, v in env.items() if TOKEN in v or "smtp-geheim" in v]
        assert leaked == (["AUSKUNFT_SMTP_PASSWORD", "AUSKUNFT_API_TOKEN"] if name == "web" else []), name
    actions = envs["actions"]["AUSKUNFT_ACTIONS_API_TOKEN"]
    assert actions == runtime_env.derived_actions_token(TOKEN)
    assert envs["rasa"]["AUSKUNFT_VECTOR_KEY"] == envs["rasa-2"]["AUSKUNFT_VECTOR_KEY"] == \
        runtime_env.vector_key(settings)
    assert envs["web"]["AUSKUNFT_VECTOR_KEY"] == envs["rasa"]["AUSKUNFT_VECTOR_KEY"]  # signed and checked alike
    assert "AUSKUNFT_VECTOR_KEY" not in envs["actions"] and "AUSKUNFT_ACTIONS_API_TOKEN" not in envs["rasa"]
    assert "AUSKUNFT_VECTOR_KEY" not in envs["kb-watch"] and "AUSKUNFT_ACTIONS_API_TOKEN" not in envs["kb-watch"]
    configured = Settings(home=tmp_path, api_token=TOKEN, actions_api_token=scoped)  # type: ignore[arg-type]
    assert {**base, **next(s for s in services(configured) if s.name == "actions").env}[
        "AUSKUNFT_ACTIONS_API_TOKEN"] == scoped
    # the action server and Rasa compute the same values from what they are given
    child = Settings(home=tmp_path / "child", actions_api_token=actions,  # type: ignore[arg-type]
                     vector_key=envs["rasa"]["AUSKUNFT_VECTOR_KEY"])  # type: ignore[arg-type]
    assert runtime_env.actions_token(child) == actions
    assert runtime_env.vector_key(child) == runtime_env.vector_key(settings)
    assert not (tmp_path / "child" / "api-token").exists()  # neither read nor generated the legacy token
