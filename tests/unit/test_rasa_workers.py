"""Which Rasa process serves a conversation."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from bot.config.settings import Settings
from bot.run.rasa_workers import rasa_url_for, worker_count, worker_for, worker_ports
from bot.run.services import services


def test_a_conversation_always_goes_to_the_same_process_and_all_processes_get_work() -> None:
    ids = [f"conversation-{i}" for i in range(2000)]
    first = [worker_for(c, 3) for c in ids]
    assert first == [worker_for(c, 3) for c in ids]  # stable (crc32, not Python's salted hash)
    assert worker_for("abc", 3) == 0 and worker_for("abd", 3) == 1  # the same in every process and after restarts
    shares = Counter(first)
    assert set(shares) == {0, 1, 2} and min(shares.values()) > 600
    with pytest.raises(ValueError, match="at least 1"):
        worker_for("x", 0)


def test_worker_ports_follow_the_first_port_and_default_to_one_per_core(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, rasa_port=7000, rasa_workers=3)
    assert worker_ports(settings) == [7000, 7001, 7002]
    assert rasa_url_for(settings, "abd") == "http://127.0.0.1:7001"
    assert worker_count(Settings(home=tmp_path, rasa_workers=0)) == len(os.sched_getaffinity(0))


def test_run_starts_one_rasa_per_worker_and_keeps_torch_out_of_the_others(tmp_path: Path) -> None:
    started = services(Settings(home=tmp_path, rasa_port=7000, rasa_workers=2))
    rasa = [s for s in started if s.name.startswith("rasa")]
    assert [s.ready_url for s in rasa] == ["http://127.0.0.1:7000/", "http://127.0.0.1:7001/"]
    assert [s.name for s in rasa] == ["rasa", "rasa-2"]
    for service in started:
        launcher = "bot.run.rasa_launcher" if service.name.startswith("rasa") else "bot.run.lean_imports"
        assert service.command[2] == launcher, service.command


def test_rasa_and_the_action_server_bind_the_internal_address_and_the_web_service_the_public_one(tmp_path: Path) -> None:
    started = {s.name: s for s in services(Settings(home=tmp_path, host="0.0.0.0", internal_host="10.0.0.5",
                                                     rasa_port=7000, rasa_workers=1))}
    web = started["web"].command
    assert web[web.index("--host") + 1] == "0.0.0.0"
    rasa = started["rasa"].command
    assert rasa[rasa.index("--interface") + 1] == "10.0.0.5" and started["rasa"].ready_url == "http://10.0.0.5:7000/"
    assert started["actions"].env["SANIC_HOST"] == "10.0.0.5"  # rasa_sdk listens on 0.0.0.0 otherwise
    assert int(started["rasa"].env["SANIC_REQUEST_MAX_SIZE"]) <= 1024 * 1024  # Sanic's default: 100 MB
    assert started["actions"].ready_url.startswith("http://10.0.0.5:")


def test_the_web_service_keeps_no_access_log_unless_asked(tmp_path: Path) -> None:
    """uvicorn's access log holds client addresses and paths (personal data)."""
    web = {s.name: s for s in services(Settings(home=tmp_path))}["web"].command
    assert "--no-access-log" in web
    assert "--no-access-log" not in {s.name: s for s in services(Settings(home=tmp_path, access_log=True))}["web"].command
