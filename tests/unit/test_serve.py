"""``auskunft serve``: one service per process, the same commands as ``auskunft run``, never training."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from bot.cli import build_parser
from bot.config.settings import Settings
from bot.run.rasa_workers import rasa_url_for, rasa_urls, rasa_urls_for
from bot.run.serve import ServeError, command_for, service_for
from bot.run.services import model_path, services


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(home=tmp_path / "home", host="0.0.0.0", internal_host="10.0.0.5", rasa_port=7000,  # noqa: S104
                    rasa_workers=2, action_port=7055, web_port=7080, api_token=SecretStr("t" * 32), **extra)


def _train(settings: Settings) -> None:
    model_path(settings).parent.mkdir(parents=True)
    model_path(settings).write_bytes(b"model")


def test_serve_rasa_without_a_trained_model_fails_and_says_to_train(tmp_path: Path) -> None:
    with pytest.raises(ServeError, match="run 'auskunft train' first"):
        service_for(_settings(tmp_path), "rasa")


def test_each_service_runs_the_command_auskunft_run_starts_on_its_own_address(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _train(settings)
    by_name = {s.name: s.command for s in services(settings)}
    for served, supervised in (("web", "web"), ("actions", "actions"), ("watcher", "kb-watch"), ("rasa", "rasa")):
        assert service_for(settings, served).command == by_name[supervised]
    assert service_for(settings, "rasa", worker=2).command == by_name["rasa-2"]
    web, _ = command_for(settings, "web")
    assert web[web.index("--host") + 1] == "0.0.0.0" and web[web.index("--port") + 1] == "7080"  # noqa: S104
    rasa, _ = command_for(settings, "rasa", worker=2)
    assert rasa[rasa.index("--interface") + 1] == "10.0.0.5" and rasa[rasa.index("--port") + 1] == "7001"
    actions, env = command_for(settings, "actions")
    assert "bot.run.action_server" in actions and env["SANIC_HOST"] == "10.0.0.5"
    assert env["AUSKUNFT_INTERNAL_TOKEN"] == ""  # set (Rasa expands endpoints.yml with it), empty: not checked
    with pytest.raises(ServeError, match="--worker 3"):
        service_for(settings, "rasa", worker=3)
    with pytest.raises(ServeError, match="unknown service"):
        service_for(settings, "inbox")


def test_the_internal_token_reaches_every_service(tmp_path: Path) -> None:
    settings = _settings(tmp_path, internal_token=SecretStr("geheim-0123456789"))
    _train(settings)
    for name in ("web", "rasa", "actions"):
        assert command_for(settings, name)[1]["AUSKUNFT_INTERNAL_TOKEN"] == "geheim-0123456789"


def test_the_command_line_has_serve_with_the_four_services() -> None:
    args = build_parser().parse_args(["serve", "rasa", "--worker", "2"])
    assert (args.service, args.worker) == ("rasa", 2)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "everything"])


def test_rasa_url_lists_processes_on_other_hosts_and_a_conversation_keeps_its_process(tmp_path: Path) -> None:
    settings = _settings(tmp_path, rasa_url="http://10.0.0.11:5005, http://10.0.0.12:5005/")
    assert rasa_urls(settings) == ["http://10.0.0.11:5005", "http://10.0.0.12:5005"]
    chosen = {f"c{i}": rasa_url_for(settings, f"c{i}") for i in range(200)}
    assert chosen == {f"c{i}": rasa_url_for(settings, f"c{i}") for i in range(200)}  # stable
    assert set(chosen.values()) == set(rasa_urls(settings))  # both get conversations
    for conversation, first in chosen.items():
        order = rasa_urls_for(settings, conversation)
        assert order[0] == first and sorted(order) == sorted(rasa_urls(settings))  # the other one only next
    local = _settings(tmp_path)
    assert rasa_urls(local) == ["http://10.0.0.5:7000", "http://10.0.0.5:7001"]  # without rasa_url: as before


@pytest.mark.parametrize("bad", ["10.0.0.11:5005", "http://10.0.0.11:5005/webhooks/rest", "ftp://x"])
def test_a_rasa_url_that_is_not_a_base_url_is_refused_with_an_example(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValidationError, match="base URL like http://"):
        Settings(home=tmp_path, rasa_url=bad)
