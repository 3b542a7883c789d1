"""What the action server process sets up once: its log format and its metrics endpoint.

rasa-sdk's server imports the ``actions`` package when it starts (``python -m rasa_sdk --actions actions`` or any
launcher built on :mod:`rasa_sdk.endpoint`); tests and tools that merely import an action do not start anything.
The metrics listen on ``AUSKUNFT_INTERNAL_HOST`` (no access control of their own, like the action server itself)
at ``AUSKUNFT_METRICS_PORT_ACTIONS`` (default: the action port + 1000).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from bot.config.settings import Settings, get_settings
from bot.metrics import OutboxDepth, set_outbox_source, start_server_once
from bot.outbox.depth import outbox_depths
from bot.run.log_format import configure_logging

SERVER_MODULE = "rasa_sdk.endpoint"
"""Imported by every way of running rasa-sdk's action server, and by nothing else the actions use."""


def is_action_server() -> bool:
    """Whether this process is rasa-sdk's action server (not a test or a tool importing an action)."""
    return SERVER_MODULE in sys.modules


_engines: Dict[Union[Path, str], Engine] = {}


def local_outbox_depths(path: Path) -> List[OutboxDepth]:
    """What waits in the action server's own outbox (tickets queued while the ticket API was away)."""
    if not path.exists():
        return []
    if path not in _engines:
        _engines[path] = create_engine(f"sqlite:///{path}", connect_args={"timeout": 10}, future=True)
    return outbox_depths(_engines[path])


def shared_outbox_depths(url: str) -> List[OutboxDepth]:
    """What waits in the outbox every action server shares (``AUSKUNFT_ACTIONS_OUTBOX_URL``)."""
    if url not in _engines:
        _engines[url] = create_engine(url, pool_pre_ping=True, future=True)
    return outbox_depths(_engines[url])


def start_metrics(settings: Optional[Settings] = None) -> Optional[Tuple[str, int]]:
    """Serve this process's metrics (once; later calls return the same address) and report the local outbox.

    Returns:
        The address served, or None (port 0, or the port was taken: logged, the actions run on).
    """
    settings = settings or get_settings()
    path, url = settings.home / "outbox.sqlite3", settings.actions_outbox_url  # as bot.tickets.client opens it
    set_outbox_source("actions", (lambda: shared_outbox_depths(url)) if url else (lambda: local_outbox_depths(path)))
    return start_server_once(settings.internal_host, settings.resolved_metrics_port_actions)


def prepare_process() -> None:
    """Set up the action server process (only in the server itself): log format, then the metrics endpoint.

    rasa-sdk set up its console logging before it imported the actions, so ``AUSKUNFT_LOG_FORMAT=json`` replaces it.
    """
    if is_action_server():
        configure_logging(get_settings().log_format, "actions")
        start_metrics()
