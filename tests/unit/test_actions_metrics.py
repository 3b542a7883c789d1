"""The action server's metrics: decisions and handoffs counted where they are made, served on an internal port."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

import actions.serving as serving
from actions.answer import ActionAnswerFaq
from actions.handoff import ActionCreateTicket
from bot.config.settings import Settings, get_settings
from bot.metrics import exposition
from bot.publish.build import build_and_publish
from bot.tickets.client import local_outbox
from tests.conftest import HashEncoder
from tests.helpers.actions import candidate, handoff_tracker, run, tracker


@pytest.fixture
def home(isolated_settings: Path, mini_kb: Path) -> Path:
    settings = get_settings()
    build_and_publish(mini_kb, settings.index_dir, settings.cache_dir, HashEncoder())
    return isolated_settings


def total(name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(s.value for family in REGISTRY.collect() for s in family.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def test_an_answer_counts_one_decision_and_no_handoff(home: Path) -> None:
    answers, handoffs = total("auskunft_decisions_total", action="answer"), total("auskunft_handoffs_total")
    _, messages = run(ActionAnswerFaq(), tracker(candidates=[candidate("sperrmuell", 0.95)]))
    assert messages[1]["custom"]["decision"] == "answer"
    assert total("auskunft_decisions_total", action="answer") == answers + 1
    assert total("auskunft_handoffs_total") == handoffs


def test_a_low_confidence_handoff_counts_as_decision_and_handoff_by_reason(home: Path) -> None:
    decisions = total("auskunft_decisions_total", action="handoff", reason="low_confidence")
    handoffs = total("auskunft_handoffs_total", reason="low_confidence")
    run(ActionAnswerFaq(), tracker(text="Mein Name ist Erika Mustermann, wie wird das Wetter?",
                                   candidates=[candidate("sperrmuell", 0.1)]))
    assert total("auskunft_decisions_total", action="handoff", reason="low_confidence") == decisions + 1
    assert total("auskunft_handoffs_total", reason="low_confidence") == handoffs + 1
    assert b"Mustermann" not in exposition.render() and b"Wetter" not in exposition.render()


def test_a_declined_handoff_is_counted(home: Path) -> None:
    declined = total("auskunft_handoff_results_total", result="declined")
    run(ActionCreateTicket(), handoff_tracker(False))
    assert total("auskunft_handoff_results_total", result="declined") == declined + 1


def test_importing_the_actions_starts_no_server_outside_the_action_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exposition, "_started", None)
    monkeypatch.delitem(sys.modules, serving.SERVER_MODULE, raising=False)  # other tests import the server module
    assert not serving.is_action_server()
    serving.prepare_process()
    assert exposition._started is None


def test_the_metrics_port_defaults_to_the_action_port_plus_1000() -> None:
    assert Settings(action_port=5055).resolved_metrics_port_actions == 6055
    assert Settings(action_port=5055, metrics_port_actions=9102).resolved_metrics_port_actions == 9102
    assert Settings(metrics_port_actions=0).resolved_metrics_port_actions == 0


def test_the_action_server_serves_its_metrics_and_its_outbox_on_the_internal_host(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = int(os.environ.get("AUSKUNFT_TEST_METRICS_PORT", "18801")) + 2
    monkeypatch.setattr(exposition, "_started", None)
    monkeypatch.setitem(sys.modules, serving.SERVER_MODULE, object())  # as in rasa-sdk's server
    monkeypatch.setenv("AUSKUNFT_METRICS_PORT_ACTIONS", str(port))
    get_settings.cache_clear()
    settings = get_settings()
    local_outbox(settings.home / "outbox.sqlite3").put("AK-7KQ2-M9XD", {"case_number": "AK-7KQ2-M9XD"})
    serving.prepare_process()
    assert exposition._started == (settings.internal_host, port)
    text = httpx.get(f"http://{settings.internal_host}:{port}/metrics", timeout=5).text
    pending = [s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == "auskunft_outbox_pending" and s.labels == {"store": "actions", "kind": "ticket"}]
    assert pending == [1.0]
    assert "AK-7KQ2-M9XD" not in text
