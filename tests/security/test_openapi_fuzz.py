"""schemathesis against the web service's own OpenAPI description: over 1,000 generated requests, no server error.

Every documented route (the citizen API, the ticket and feedback API) gets requests generated from its schema,
valid and invalid (wrong types, missing fields, unknown agencies, huge numbers, odd headers), against the real
FastAPI application with its real database, limits store and middleware. Only Rasa is a stand-in (it answers
every message with "ok"), so the run needs no running services and takes about a minute and a half.

Checked: no 5xx. Schema conformance (documented status codes, response bodies) is not checked yet: the API
answers several undocumented 4xx (404 for an unknown case, 400 for an unknown agency); see the README.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Iterator, List

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error

from bot.config.settings import Settings
from bot.web.app import create_app
from bot.web.deps import get_http, services_of

pytestmark = [pytest.mark.slow]
TOKEN = "fuzz-token-0123456789-abcdefghijklmn"
EXAMPLES = 150
"""Per operation; 13 operations: about 2,000 requests."""
SENT: List[int] = []


def _rasa(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=[{"recipient_id": "x", "text": "ok",
                                      "buttons": [{"title": "Ja", "payload": "/affirm"}]}])


@pytest.fixture(scope="module")
def api() -> Iterator[Any]:
    with tempfile.TemporaryDirectory(prefix="openapi-fuzz-") as home:
        app = create_app(Settings(home=Path(home), api_token=SecretStr(TOKEN), embed_in_web=False, rate_limits=False))
        client = httpx.AsyncClient(transport=httpx.MockTransport(_rasa))
        app.dependency_overrides[get_http] = lambda: client
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
        services_of(app).close()


schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_is_a_server_error(case: Any) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKEN}"}
    SENT.append(1)
    case.call_and_validate(checks=[not_a_server_error])


def test_zz_enough_requests_were_sent() -> None:
    print(f"schemathesis sent {len(SENT)} requests")
    assert len(SENT) >= 1000, f"only {len(SENT)} requests (run the whole file)"
