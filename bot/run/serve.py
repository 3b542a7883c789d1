"""One service per process (``auskunft serve web|rasa|actions|watcher|worker``): for systemd, containers, several hosts.

Each runs exactly the command ``auskunft run`` starts for it (:func:`bot.run.services.services`), in the
foreground, replacing this process (signals reach the server itself). Nothing is provisioned, built or
trained here: that is the build step (``auskunft model provision``, ``auskunft kb build``, ``auskunft train``).

| service | binds | readiness |
|---|---|---|
| web | ``host:web_port`` | ``GET /healthz`` |
| rasa | ``internal_host:rasa_port`` (+ worker - 1) | ``GET /`` |
| actions | ``internal_host:action_port`` | ``GET /health`` |
| watcher | nothing (rebuilds the shared index; run one per deployment) | its process |
| worker | ``internal_host:worker_port`` (helpdesk deliveries, notifications, retention; web with
  ``background_jobs=false``) | ``GET /health`` |

The worker is not part of ``auskunft run``, where the web service does the background work itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Dict, List, Tuple

from bot.config.settings import PROJECT_ROOT, Settings
from bot.errors import AuskunftError
from bot.run.rasa_workers import worker_count
from bot.run.runtime_env import child_env, service_secrets
from bot.run.services import Service, model_path, prepare_tracker_db, services

SERVED = ("web", "rasa", "actions", "watcher", "worker")


class ServeError(AuskunftError):
    """The service cannot start; the message says what to do."""


def _supervisor_name(name: str, worker: int) -> str:
    if name == "watcher":
        return "kb-watch"
    if name == "rasa":
        return "rasa" if worker == 1 else f"rasa-{worker}"
    return name


def worker_service(settings: Settings) -> Service:
    """The background worker (:mod:`bot.web.worker`); only ``auskunft serve`` starts it."""
    return Service("worker", [sys.executable, "-m", "bot.run.lean_imports", "bot.web.worker"],
                   f"http://{settings.internal_host}:{settings.worker_port}/health",
                   env=service_secrets(settings, "worker"))


def service_for(settings: Settings, name: str, worker: int = 1) -> Service:
    """The service ``auskunft run`` would start as ``name`` (``worker``: which Rasa process, from 1).

    Raises:
        ServeError: unknown name, a worker beyond ``rasa_workers``, or ``rasa`` without a trained model.
    """
    if name not in SERVED:
        raise ServeError(f"unknown service {name!r}; choose one of {', '.join(SERVED)}")
    count = worker_count(settings)
    if not 1 <= worker <= count:
        raise ServeError(f"--worker {worker} is not one of the {count} Rasa processes (AUSKUNFT_RASA_WORKERS)")
    if name == "rasa" and not model_path(settings).is_file():
        raise ServeError(f"no trained Rasa model at {model_path(settings)}; run 'auskunft train' first "
                         "(training is a build step; 'auskunft serve' never trains)")
    if name == "worker":
        return worker_service(settings)
    wanted = _supervisor_name(name, worker)
    return next(s for s in services(settings, watch_kb=True) if s.name == wanted)


def command_for(settings: Settings, name: str, worker: int = 1) -> Tuple[List[str], Dict[str, str]]:
    """The command line and the full environment of ``auskunft serve name``.

    Raises:
        ServeError: see :func:`service_for`.
    """
    service = service_for(settings, name, worker)
    env = {**child_env(settings), "AUSKUNFT_RASA_WORKERS": str(worker_count(settings)), **service.env}
    return service.command, env


def serve(settings: Settings, name: str, worker: int = 1) -> int:
    """Replace this process with the service; returns 1 (with the reason on stderr) if it cannot start."""
    try:
        command, env = command_for(settings, name, worker)
    except ServeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if name == "rasa" and Path(settings.endpoints).name == "endpoints.yml":
        prepare_tracker_db(Path(env["AUSKUNFT_TRACKER_DB"]))  # the embedded SQLite store, as 'auskunft run'
    ready = service_for(settings, name, worker).ready_url
    print(f"starting {name}" + (f" (ready when {ready} answers 200)" if ready else ""), file=sys.stderr, flush=True)
    os.chdir(PROJECT_ROOT)
    os.execvpe(command[0], command, env)  # noqa: S606 - our own interpreter and module, no shell
    return 1  # not reached
