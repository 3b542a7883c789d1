"""deploy/: the Kubernetes manifests, systemd units and nginx config use the same entry points as the test deployment.

Offline and fast; the schema validation itself is ``make deploy-check`` (kubernetes-validate in a tool venv).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import yaml

from bot.config.settings import Settings
from bot.run.serve import SERVED, service_for
from bot.run.services import model_path
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def _documents() -> List[Dict[str, Any]]:
    found = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def _containers() -> Iterator[Dict[str, Any]]:
    for doc in _documents():
        spec = doc.get("spec", {}).get("template", {}).get("spec", {})
        yield from spec.get("containers", [])


def test_every_long_running_container_is_an_auskunft_serve_entry_point_and_every_service_has_one() -> None:
    served = []
    for container in _containers():
        command = container["command"]
        if command[:2] == ["auskunft", "serve"]:
            served.append(command[2])
        else:  # the build Job: the build step, where training belongs
            assert "auskunft train" in " ".join(command), command
    assert sorted(served) == sorted(SERVED)


def test_probes_and_ports_are_the_readiness_endpoints_and_ports_the_services_use(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, rasa_workers=1)
    model_path(settings).parent.mkdir(parents=True)
    model_path(settings).write_bytes(b"model")
    kinds = {doc["kind"] for doc in _documents()}
    assert {"Deployment", "Service", "Ingress", "ConfigMap", "Secret", "PodDisruptionBudget",
            "HorizontalPodAutoscaler"} <= kinds
    for container in _containers():
        command = container["command"]
        if command[:2] != ["auskunft", "serve"]:
            continue
        ready = service_for(settings, command[2]).ready_url
        if ready is None:  # the watcher serves nothing
            assert "ports" not in container and "readinessProbe" not in container
            continue
        port = int(re.search(r":(\d+)/", ready).group(1))  # type: ignore[union-attr]
        assert [p["containerPort"] for p in container["ports"]] == [port]
        assert container["readinessProbe"]["httpGet"]["path"] == "/" + ready.split("/", 3)[3]
        assert "livenessProbe" in container


def test_the_systemd_units_start_the_same_entry_points() -> None:
    units = {path.name: path.read_text() for path in (DEPLOY / "systemd").glob("*.service")}
    started = sorted(re.search(r"^ExecStart=\S+/auskunft serve (\w+)", text, re.M).group(1)  # type: ignore[union-attr]
                     for text in units.values())
    assert started == sorted(SERVED)
    assert all("EnvironmentFile=/etc/auskunft/auskunft.env" in text for text in units.values())


def test_where_a_worker_runs_the_web_services_leave_the_background_jobs_to_it() -> None:
    workers = [doc for doc in _documents() if doc["kind"] == "Deployment"
               and doc["spec"]["template"]["spec"]["containers"][0]["command"] == ["auskunft", "serve", "worker"]]
    assert len(workers) == 1
    config = next(doc for doc in _documents() if doc["kind"] == "ConfigMap")["data"]
    assert config["AUSKUNFT_BACKGROUND_JOBS"] == "false"
    assert Settings(background_jobs=config["AUSKUNFT_BACKGROUND_JOBS"]).background_jobs is False  # parses as meant
    assert int(config["AUSKUNFT_WORKER_PORT"]) == \
        workers[0]["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    env = (DEPLOY / "systemd" / "auskunft.env.example").read_text()
    assert "\nAUSKUNFT_BACKGROUND_JOBS=false\n" in env
    assert "auskunft-worker.service" in (DEPLOY / "systemd" / "auskunft.target").read_text()


def test_the_nginx_config_checks_hosts_passively_and_sets_the_forwarded_address() -> None:
    text = (DEPLOY / "nginx" / "auskunft.conf").read_text()
    assert text.count("max_fails=") == 2 and "fail_timeout=" in text
    assert "proxy_next_upstream error timeout;" in text  # never non_idempotent: a POST that arrived is not resent
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text  # what a client sent is overwritten
    assert set(re.findall(r"@@(\w+)@@", text)) == {"LISTEN", "WEB_1", "WEB_2"}


def test_every_variable_of_the_scale_out_endpoints_is_provided(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa refuses an unset ``${VAR}`` in its endpoints file: the manifests and units set each one, or the supervisor
    (``auskunft serve``) gives it its default; the lock store reads the TLS switch as meant."""
    from bot.conversations.lock_store import parse_flag
    from bot.run.runtime_env import child_env

    used = set(re.findall(r"\$\{(\w+)\}", (ROOT / "endpoints.scale-out.yml").read_text()))
    assert {"AUSKUNFT_REDIS_PASSWORD", "AUSKUNFT_REDIS_TLS", "AUSKUNFT_PG_SSLMODE"} <= used
    for name in [name for name in os.environ if name.startswith("AUSKUNFT_")]:
        monkeypatch.delenv(name)  # what the supervisor sets itself, not what this shell has
    supervisor = set(child_env(Settings(home=tmp_path)))
    kubernetes = {name for doc in _documents() if doc["kind"] in ("ConfigMap", "Secret")
                  for name in doc.get("data", doc.get("stringData", {}))}
    assert used - supervisor <= kubernetes, used - supervisor - kubernetes
    env = dict(line.split("=", 1) for line in (DEPLOY / "systemd" / "auskunft.env.example").read_text().splitlines()
               if line and not line.startswith("#"))
    assert used - supervisor <= set(env), used - supervisor - set(env)
    config = next(doc for doc in _documents() if doc["kind"] == "ConfigMap")["data"]
    assert parse_flag(config["AUSKUNFT_REDIS_TLS"], "use_ssl") is False and parse_flag(env["AUSKUNFT_REDIS_TLS"],
                                                                                       "use_ssl") is False
