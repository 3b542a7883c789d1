"""Start, supervise and stop the bot's processes (``auskunft run`` / ``auskunft stop``)."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.config.settings import PROJECT_ROOT, Settings
from bot.run.rasa_workers import worker_count, worker_ports
from bot.run.runtime_env import child_env, service_secrets

TRAINING_INPUTS = ("config.yml", "domain.yml", "data")
# Request bodies Sanic reads before any handler runs (its default is 100 MB). Rasa gets one message with
# its metadata from the web service; the action server gets a (compacted) tracker.
RASA_MAX_BODY = 1024 * 1024
ACTIONS_MAX_BODY = 16 * 1024 * 1024


@dataclass
class Service:
    """One child process and how to tell that it is ready."""

    name: str
    command: List[str]
    ready_url: Optional[str]
    process: Optional["subprocess.Popen[bytes]"] = None
    log_path: Optional[Path] = None
    env: Dict[str, str] = field(default_factory=dict)  # on top of the environment every child gets


def training_fingerprint(settings: Settings, root: Path = PROJECT_ROOT) -> str:
    """Hash of everything ``rasa train`` reads; kb changes are not part of it (no retraining)."""
    digest = hashlib.sha256(str(settings.spacy_model_dir).encode())
    for name in TRAINING_INPUTS:
        path = root / name
        files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def model_path(settings: Settings) -> Path:
    """Where the trained Rasa model is kept."""
    return settings.home / "rasa-model" / "auskunft.tar.gz"


def train_if_needed(settings: Settings, force: bool = False) -> bool:
    """Run ``rasa train`` when config, domain or data changed; True on success."""
    target = model_path(settings)
    stamp = target.with_suffix(".fingerprint")
    fingerprint = training_fingerprint(settings)
    if not force and target.is_file() and stamp.is_file() and stamp.read_text() == fingerprint:
        print(f"Rasa model up to date: {target}", file=sys.stderr)
        return True
    print("training the Rasa model (about a minute) ...", file=sys.stderr)
    command = [sys.executable, "-m", "rasa", "train", "--config", "config.yml", "--domain", "domain.yml",
               "--data", "data", "--out", str(target.parent), "--fixed-model-name", "auskunft"]
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=child_env(settings), check=False)
    if done.returncode != 0 or not target.is_file():
        print("error: rasa train failed (see its output above); fix config.yml/domain.yml/data and retry",
              file=sys.stderr)
        return False
    stamp.write_text(fingerprint)
    return True


def prepare_tracker_db(path: Path) -> None:
    """Put the SQLite tracker store into WAL mode (persistent in the file): one sync per turn, not three."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")


def _run_step(settings: Settings, *args: str) -> bool:
    command = [sys.executable, "-m", "bot.cli", *args]
    return subprocess.run(command, cwd=PROJECT_ROOT, env=child_env(settings), check=False).returncode == 0


def services(settings: Settings, watch_kb: bool = True) -> List[Service]:
    """The processes ``auskunft run`` starts: web, actions, one Rasa per worker port, the kb watcher.

    All but Rasa's own launcher go through :mod:`bot.run.lean_imports`, which keeps torch out.
    """
    py, host, internal = sys.executable, settings.host, settings.internal_host
    lean = [py, "-m", "bot.run.lean_imports"]
    result = [
        # open inbox event streams (bot/web/routers/inbox_live.py) would hold a stop up: cut them after 5 s
        Service("web", [*lean, "uvicorn", "--factory", "bot.web.app:create_app", "--host", host,
                        "--port", str(settings.web_port), "--timeout-graceful-shutdown", "5",
                        *([] if settings.access_log else ["--no-access-log"])],
                f"http://{host}:{settings.web_port}/healthz"),
        # rasa_sdk's app with the internal-token check (bot/run/action_server.py), on SANIC_HOST only
        Service("actions", [*lean, "bot.run.action_server", "--actions", "actions", "--port",
                            str(settings.action_port)],
                f"http://{internal}:{settings.action_port}/health",
                env={"SANIC_HOST": internal, "SANIC_REQUEST_MAX_SIZE": str(ACTIONS_MAX_BODY)}),
    ]
    for number, port in enumerate(worker_ports(settings), start=1):
        result.append(Service("rasa" if number == 1 else f"rasa-{number}",
                              [py, "-m", "bot.run.rasa_launcher", "run", "--model", str(model_path(settings)),
                               "--endpoints", settings.endpoints, "--credentials", "credentials.yml",
                               "--interface", internal, "--port", str(port)],
                              f"http://{internal}:{port}/", env={"SANIC_REQUEST_MAX_SIZE": str(RASA_MAX_BODY)}))
    if watch_kb:
        result.append(Service("kb-watch", [*lean, "bot.cli", "kb", "watch"], None))
    for service in result:  # each child gets only the secrets it needs (bot.run.runtime_env.service_secrets)
        service.env.update(service_secrets(settings, service.name))
    return result


def _ready(url: Optional[str]) -> bool:
    if url is None:
        return True
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback only
            return bool(response.status == 200)
    except OSError:
        return False


def _tail(path: Optional[Path], lines: int = 15) -> str:
    if path is None or not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_all(settings: Settings, train: bool = True, watch_kb: bool = True) -> int:
    """Provision, build the index, train if needed, start everything and supervise it."""
    started = time.perf_counter()
    settings.home.mkdir(parents=True, exist_ok=True)
    if not _run_step(settings, "model", "provision") or not _run_step(settings, "kb", "build"):
        print("error: could not prepare models or index (see above)", file=sys.stderr)
        return 1
    if train and not train_if_needed(settings):
        return 1
    if not model_path(settings).is_file():
        print("error: no Rasa model; run 'auskunft train'", file=sys.stderr)
        return 1
    logs = settings.home / "logs"
    logs.mkdir(exist_ok=True)
    prepare_tracker_db(Path(child_env(settings)["AUSKUNFT_TRACKER_DB"]))
    children = services(settings, watch_kb)
    env = {**child_env(settings), "AUSKUNFT_RASA_WORKERS": str(worker_count(settings))}  # all agree on the count
    stopping = {"flag": False}

    def request_stop(_signum: int, _frame: object) -> None:
        stopping["flag"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    pidfile = settings.home / "run.pid"
    pidfile.write_text(str(os.getpid()))
    boot = time.perf_counter()
    try:
        for service in children:
            service.log_path = logs / f"{service.name}.log"
            with service.log_path.open("ab") as log:
                service.process = subprocess.Popen(service.command, cwd=PROJECT_ROOT, env={**env, **service.env},
                                                   stdout=log, stderr=subprocess.STDOUT)
        pending = list(children)
        while pending and not stopping["flag"]:
            for service in list(pending):
                if service.process is not None and service.process.poll() is not None:
                    print(f"error: {service.name} exited during start-up; last log lines "
                          f"({service.log_path}):\n{_tail(service.log_path)}", file=sys.stderr)
                    return 1
                if _ready(service.ready_url):
                    pending.remove(service)
            time.sleep(0.2)
        if stopping["flag"]:
            return 0
        ports = ", ".join(str(port) for port in worker_ports(settings))
        print(
            f"Auskunft is ready (services up in {time.perf_counter() - boot:.1f} s, "
            f"{time.perf_counter() - started:.1f} s in all):\n"
            f"  demo page and ticket API  http://{settings.host}:{settings.web_port}/  "
            f"(API description: /openapi.json)\n"
            f"  Rasa REST channel         http://{settings.internal_host}:{settings.rasa_port}/webhooks/rest/webhook"
            f" ({worker_count(settings)} Rasa processes, ports {ports})\n"
            f"  action server             http://{settings.internal_host}:{settings.action_port}\n"
            f"  logs                      {logs}\n"
            "Stop with Ctrl-C or 'auskunft stop'.",
            flush=True,
        )
        while not stopping["flag"]:
            for service in children:
                if service.process is not None and service.process.poll() is not None:
                    print(f"error: {service.name} stopped unexpectedly:\n{_tail(service.log_path)}",
                          file=sys.stderr)
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        _terminate(children)
        pidfile.unlink(missing_ok=True)
        print("all services stopped", file=sys.stderr)


def _terminate(children: List[Service], grace: float = 10.0) -> None:
    running = [s.process for s in children if s.process is not None and s.process.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stop_running(settings: Settings, timeout: float = 30.0) -> int:
    """Ask a running ``auskunft run`` to stop and wait until it has."""
    pidfile = settings.home / "run.pid"
    if not pidfile.is_file():
        print("no running 'auskunft run' found", file=sys.stderr)
        return 0
    pid = int(pidfile.read_text().strip())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pidfile.unlink(missing_ok=True)
        print("stale pid file removed; nothing was running", file=sys.stderr)
        return 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("stopped", file=sys.stderr)
            return 0
        time.sleep(0.2)
    print(f"error: process {pid} did not stop within {timeout:.0f} s", file=sys.stderr)
    return 1
