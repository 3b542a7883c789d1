"""``/metrics`` of the web service: only with the API token; route templates, never paths or personal data."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.config.agencies import DEFAULT_KEY
from bot.config.settings import Settings
from bot.limits.memory import MemoryLimiter
from bot.limits.policy import Budgets, CitizenLimits
from bot.outbox import Outbox
from bot.staff.throttle import LoginThrottle, LoginThrottled
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.helpers.ticket_api import AUTH, ticket


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}",
                        api_token=AUTH["Authorization"].split()[1], rate_limits=False)
    with TestClient(create_app(settings)) as test_client:
        yield test_client
    services_of(test_client.app).close()  # type: ignore[arg-type]


def scrape(client: TestClient) -> str:
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-000000000"},
                                     {"Authorization": "Basic dXNlcjpwYXNz"}])
def test_metrics_need_the_api_token(client: TestClient, headers: dict) -> None:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert "auskunft_" not in response.text


def test_metrics_are_not_in_the_openapi_description(client: TestClient) -> None:
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_case_numbers_and_personal_data_never_become_labels(client: TestClient) -> None:
    before = scrape(client)
    assert client.post("/api/tickets", json=ticket(), headers=AUTH).status_code == 201
    assert client.get("/api/tickets/AK-7KQ2-M9XD", headers=AUTH).status_code == 200
    assert client.get("/api/tickets/AK-0000-0000", headers=AUTH).status_code == 404
    assert client.get("/fall/AK-7KQ2-M9XD/max@example.org").status_code in (404, 405, 422)
    text = scrape(client)
    requests = "auskunft_http_request_duration_seconds_count"
    template = {"route": "/api/tickets/{case_number}", "method": "GET"}
    for labels in ({"status": "2xx", **template}, {"status": "4xx", **template},
                   {"route": "/api/tickets", "method": "POST", "status": "2xx"}):
        assert sample(text, requests, **labels) == sample(before, requests, **labels) + 1, labels
    created = "auskunft_tickets_created_total"
    assert sample(text, created, reason="low_confidence") == sample(before, created, reason="low_confidence") + 1
    labels_seen = " ".join(f"{name} {value}" for family in text_string_to_metric_families(text)
                           for one in family.samples for name, value in one.labels.items())
    for secret in ("AK-7KQ2-M9XD", "AK-0000-0000", "max@example.org", "0171", "2345678", "Fischereischein", "conv-1",
                   "test-token"):
        assert secret not in labels_seen  # label values only: "0171" can be digits of a measured sum


def test_unknown_paths_share_one_label_and_static_files_their_mount(client: TestClient) -> None:
    assert client.get("/wp-admin/AK-9999-9999.php").status_code == 404
    assert client.get("/widget/auskunft.js").status_code == 200
    assert client.get("/openapi.json").status_code == 200  # a plain Starlette route
    text = scrape(client)
    assert sample(text, "auskunft_http_request_duration_seconds_count", route="unmatched", method="GET",
                  status="4xx") >= 1
    assert sample(text, "auskunft_http_request_duration_seconds_count", route="/widget/{path}", method="GET",
                  status="2xx") >= 1
    assert sample(text, "auskunft_http_request_duration_seconds_count", route="/openapi.json", method="GET",
                  status="2xx") >= 1
    assert "wp-admin" not in text and "auskunft.js" not in text


def test_outbox_depth_and_index_version_are_read_at_scrape_time(client: TestClient) -> None:
    services = services_of(client.app)  # type: ignore[arg-type]
    assert sample(scrape(client), "auskunft_index_version_info", agency=DEFAULT_KEY, version="none") == 1
    services.settings.index_dir.mkdir(parents=True, exist_ok=True)
    (services.settings.index_dir / "CURRENT").write_text("cc5dce139ed5\n")
    Outbox(services.engine, "helpdesk:zammad").put("AK-7KQ2-M9XD", {"case_number": "AK-7KQ2-M9XD"})
    text = scrape(client)
    assert sample(text, "auskunft_index_version_info", agency=DEFAULT_KEY, version="cc5dce139ed5") == 1
    assert sample(text, "auskunft_outbox_pending", store="web", kind="helpdesk:zammad") == 1
    assert sample(text, "auskunft_metrics_source_up", source="outbox:web") == 1
    assert "AK-7KQ2-M9XD" not in text


def test_refusals_are_counted_by_limit(client: TestClient) -> None:
    limits = CitizenLimits(MemoryLimiter(), Budgets(lookups_per_address=1, chat_per_conversation=1), "secret")
    before = scrape(client)
    assert limits.lookup("a").allowed and not limits.lookup("a").allowed
    assert limits.chat("a", "c").allowed and not limits.chat("a", "c").allowed
    throttle = LoginThrottle(MemoryLimiter(), "secret")
    for _ in range(6):
        throttle.failed("erika")
    with pytest.raises(LoginThrottled):
        throttle.check("erika")
    text = scrape(client)
    for name in ("lookup", "chat", "login"):
        refusals = "auskunft_limit_refusals_total"
        assert sample(text, refusals, limit=name) == sample(before, refusals, limit=name) + 1, name


def test_event_streams_are_not_timed_as_requests() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse, StreamingResponse
    from starlette.routing import Route

    from bot.web.latency import LatencyMiddleware

    async def events(request: object) -> StreamingResponse:
        return StreamingResponse(iter(["data: 1\n\n"]), media_type="text/event-stream")

    async def plain(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/metrics-test/events", events), Route("/metrics-test/plain", plain)])
    app.add_middleware(LatencyMiddleware)
    requests = "auskunft_http_request_duration_seconds_count"
    before = [sample(metrics_text(), requests, route=f"/metrics-test/{name}") for name in ("events", "plain")]
    with TestClient(app) as client:
        assert client.get("/metrics-test/events").status_code == 200
        assert client.get("/metrics-test/plain").status_code == 200
    text = metrics_text()
    assert sample(text, requests, route="/metrics-test/events") == before[0]
    assert sample(text, requests, route="/metrics-test/plain") == before[1] + 1


def metrics_text() -> str:
    from bot.metrics import render

    return render().decode()
