"""The metrics module: safe labels, counters, scrape-time gauges, the outbox depth and the metrics server."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, List

import httpx
import pytest
from prometheus_client import REGISTRY

from bot import metrics
from bot.metrics import OutboxDepth, exposition
from bot.outbox import Outbox
from bot.outbox.depth import outbox_depths

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture(autouse=True)
def no_sources() -> Iterator[None]:
    yield
    metrics.set_outbox_source("test", None)
    metrics.set_index_source("test", None)


@pytest.mark.parametrize("given, label", [
    ("low_confidence", "low_confidence"), ("helpdesk:zammad", "helpdesk:zammad"), (None, "none"), ("", "none"),
    ("Wie beantrage ich einen Pass?", "other"), ("max@example.org", "other"), ("/api/tickets/AB-1234", "other"),
    ("Low", "other"), ("x" * 49, "other"),
])
def test_only_short_identifiers_become_label_values(given: object, label: str) -> None:
    assert metrics.safe_label(given) == label


@pytest.mark.parametrize("code, label", [(200, "2xx"), (201, "2xx"), (302, "3xx"), (429, "4xx"), (503, "5xx"),
                                         (42, "other"), (600, "other")])
def test_status_classes(code: int, label: str) -> None:
    assert metrics.status_class(code) == label


def test_a_handoff_decision_counts_as_decision_and_as_handoff() -> None:
    before = (value("auskunft_decisions_total", action="handoff", reason="asked_for_human"),
              value("auskunft_handoffs_total", reason="asked_for_human"),
              value("auskunft_decisions_total", action="answer", reason="confident"))
    metrics.count_decision("handoff", "asked_for_human")
    metrics.count_decision("answer", "confident")
    assert value("auskunft_decisions_total", action="handoff", reason="asked_for_human") == before[0] + 1
    assert value("auskunft_handoffs_total", reason="asked_for_human") == before[1] + 1
    assert value("auskunft_decisions_total", action="answer", reason="confident") == before[2] + 1


def test_free_text_passed_as_a_reason_is_counted_as_other() -> None:
    before = value("auskunft_handoff_results_total", result="other")
    metrics.count_handoff_result("Mein Name ist Erika Mustermann")
    assert value("auskunft_handoff_results_total", result="other") == before + 1
    assert b"Mustermann" not in metrics.render()


def test_latency_is_recorded_per_template_method_and_status_class() -> None:
    labels = {"route": "/api/tickets/{case_number}", "method": "GET", "status": "4xx"}
    before = value("auskunft_http_request_duration_seconds_count", **labels)
    metrics.observe_request("/api/tickets/{case_number}", "get", 404, 0.02)
    assert value("auskunft_http_request_duration_seconds_count", **labels) == before + 1
    assert value("auskunft_http_request_duration_seconds_bucket", le="0.025", **labels) >= 1


def test_refusals_and_tickets_are_counted_by_name() -> None:
    before = value("auskunft_limit_refusals_total", limit="lookup"), value("auskunft_tickets_created_total",
                                                                          reason="not_helpful")
    metrics.count_refusal("lookup")
    metrics.count_ticket_created("not_helpful")
    assert value("auskunft_limit_refusals_total", limit="lookup") == before[0] + 1
    assert value("auskunft_tickets_created_total", reason="not_helpful") == before[1] + 1


def test_sources_are_asked_at_scrape_time() -> None:
    depths: List[OutboxDepth] = [OutboxDepth("ticket", 3, 1, 42.5)]
    metrics.set_outbox_source("test", lambda: depths)
    metrics.set_index_source("test", lambda: {"default": "cc5dce139ed5", "landkreis": None})
    assert value("auskunft_outbox_pending", store="test", kind="ticket") == 3
    assert value("auskunft_outbox_dead_letters", store="test", kind="ticket") == 1
    assert value("auskunft_outbox_oldest_age_seconds", store="test", kind="ticket") == 42.5
    assert value("auskunft_index_version_info", agency="default", version="cc5dce139ed5") == 1
    assert value("auskunft_index_version_info", agency="landkreis", version="none") == 1
    depths[0] = OutboxDepth("ticket", 0, 1, 0.0)  # read again at the next scrape, not cached
    assert value("auskunft_outbox_pending", store="test", kind="ticket") == 0


def test_a_failing_source_is_reported_and_the_scrape_still_works() -> None:
    def broken() -> List[OutboxDepth]:
        raise OSError("database away")

    metrics.set_outbox_source("test", broken)
    text = metrics.render().decode()
    assert 'auskunft_metrics_source_up{source="outbox:test"} 0.0' in text
    assert "auskunft_decisions_total" in text


def test_outbox_depth_counts_pending_dead_and_the_oldest_age(tmp_path: Path) -> None:
    box = Outbox.sqlite(tmp_path / "outbox.sqlite3", "ticket", clock=lambda: NOW)
    assert box.put("A-1", {"x": 1}, now=NOW - timedelta(minutes=10))
    assert box.put("A-2", {"x": 2}, now=NOW - timedelta(minutes=2))
    assert box.put("A-3", {"x": 3}, now=NOW - timedelta(hours=5))
    assert box.put("A-4", {"x": 4}, now=NOW - timedelta(hours=9))
    first, *_ = [item for item in box.lease(10, now=NOW) if item.key == "A-3"]
    assert box.dead(first, "rejected")
    delivered = next(item for item in box.lease(10, now=NOW + timedelta(hours=1)) if item.key == "A-4")
    assert box.done(delivered, now=NOW)
    assert outbox_depths(box.engine, clock=lambda: NOW) == [OutboxDepth("ticket", 2, 1, 600.0)]


def test_an_outbox_database_without_the_table_has_no_depths(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    assert outbox_depths(create_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")) == []


def test_the_metrics_server_starts_once_and_a_taken_port_is_only_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exposition, "_started", None)
    assert exposition.start_server_once("127.0.0.1", 0) is None
    port = int(os.environ.get("AUSKUNFT_TEST_METRICS_PORT", "18801"))
    first = exposition.start_server_once("127.0.0.1", port)
    assert first == ("127.0.0.1", port)
    assert exposition.start_server_once("127.0.0.1", port + 1) == first  # a second start is a no-op
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert "auskunft_decisions_total" in text
    monkeypatch.setattr(exposition, "_started", None)
    assert exposition.start_server_once("127.0.0.1", port) is None  # the port is taken (by the first server)


def test_retrieval_time_is_recorded_by_who_embedded() -> None:
    before = value("auskunft_retrieval_seconds_count", embedded_by="web"), value("auskunft_retrieval_seconds_count",
                                                                                 embedded_by="none")
    metrics.observe_retrieval("web", 0.004)
    metrics.observe_retrieval(None, 0.001)
    assert value("auskunft_retrieval_seconds_count", embedded_by="web") == before[0] + 1
    assert value("auskunft_retrieval_seconds_count", embedded_by="none") == before[1] + 1


@pytest.mark.parametrize("argv, offset, port", [
    (["run", "--model", "m.tar.gz", "--interface", "10.0.0.5", "--port", "5007"], 1000, 6007),
    (["run", "-p", "5010"], 1000, 6010),
    (["run"], 1000, 6005),
    (["run", "--port", "5005"], 0, 0),
    (["train", "--port", "5005"], 1000, 0),
    (["data", "validate"], 1000, 0),
    ([], 1000, 0),
])
def test_each_serving_rasa_process_gets_its_own_metrics_port(argv: List[str], offset: int, port: int) -> None:
    from bot.run.rasa_launcher import metrics_port

    assert metrics_port(argv, offset) == port
