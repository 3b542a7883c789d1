"""The committed OpenAPI description is current, and real responses conform to it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterator

import jsonschema
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from bot.config.settings import Settings
from bot.web.app import create_app
from bot.web.openapi import render
from bot.web.openapi_file import describe
from tests.conftest import ROOT
from tests.helpers.ticket_api import AUTH, TOKEN, ticket

SPEC_FILE = ROOT / "docs" / "openapi.json"
SPEC: Dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
CONVERSATION = "0123456789abcdef0123456789abcdef"


def conforms(response: Response, path: str, method: str) -> Any:
    """Validate a response against the committed description; returns its JSON."""
    described = SPEC["paths"][path][method]["responses"]
    assert str(response.status_code) in described, f"{method.upper()} {path} answered {response.status_code}, " \
                                                   f"described: {sorted(described)}"
    schema = described[str(response.status_code)]["content"]["application/json"]["schema"]
    body = response.json()
    jsonschema.validate(body, {**schema, "components": SPEC["components"]})
    return body


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(home=tmp_path / "home", api_token=TOKEN))) as test_client:
        yield test_client


def test_committed_description_is_current() -> None:
    assert SPEC_FILE.read_text(encoding="utf-8") == render(describe()), \
        "docs/openapi.json is out of date: run 'make openapi' and commit it"


def test_ticket_api_responses_conform(client: TestClient) -> None:
    created = conforms(client.post("/api/tickets", json=ticket(conversation_id=CONVERSATION), headers=AUTH),
                       "/api/tickets", "post")
    assert created["queue_position"] == 1
    conforms(client.get("/api/tickets", params={"status": "open"}, headers=AUTH), "/api/tickets", "get")
    case = created["case_number"]
    conforms(client.get(f"/api/tickets/{case}", headers=AUTH), "/api/tickets/{case_number}", "get")
    conforms(client.patch(f"/api/tickets/{case}", json={"status": "in_progress"}, headers=AUTH),
             "/api/tickets/{case_number}", "patch")
    conforms(client.post(f"/api/tickets/{case}/replies", json={"author": "A", "text": "Hallo"}, headers=AUTH),
             "/api/tickets/{case_number}/replies", "post")
    conforms(client.get("/api/chat/replies", headers={"X-Auskunft-Conversation": CONVERSATION}),
             "/api/chat/replies", "get")
    conforms(client.post("/api/tickets", json=ticket(consent=False), headers=AUTH), "/api/tickets", "post")  # 422


def test_feedback_api_responses_conform(client: TestClient) -> None:
    vote = {"conversation_id": CONVERSATION, "faq_id": "sperrmuell", "helpful": True}
    conforms(client.post("/api/feedback", json=vote, headers=AUTH), "/api/feedback", "post")
    conforms(client.get("/api/feedback", headers=AUTH), "/api/feedback", "get")
    conforms(client.get("/api/feedback/summary", headers=AUTH), "/api/feedback/summary", "get")
