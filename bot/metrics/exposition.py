"""The Prometheus text format, and a metrics server of its own for processes without a web app of ours.

The web service serves :func:`render` at ``/metrics`` behind its bearer token; the action server (rasa-sdk's Sanic
app, which we do not extend) gets :func:`start_server_once` on an internal port.
"""

from __future__ import annotations

import logging
import threading
from typing import Optional, Tuple

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest, start_http_server

log = logging.getLogger(__name__)
CONTENT_TYPE = CONTENT_TYPE_LATEST

_lock = threading.Lock()
_started: Optional[Tuple[str, int]] = None


def render() -> bytes:
    """Every metric of this process in the Prometheus text format."""
    return generate_latest(REGISTRY)


def start_server_once(host: str, port: int) -> Optional[Tuple[str, int]]:
    """Serve the metrics at ``http://host:port/metrics`` on a daemon thread, once per process.

    A second call (the actions package imported twice, a reload) does nothing and returns the address already
    served. A port that is taken is logged as a warning and the process goes on without metrics: the bot matters
    more than its numbers.

    Args:
        host: the address to bind (an internal one: the metrics have no access control of their own).
        port: the port; 0 means no metrics server.

    Returns:
        The address served, or None when none is (port 0, or the bind failed).
    """
    global _started
    with _lock:
        if _started is not None:
            return _started
        if port == 0:
            return None
        try:
            start_http_server(port, addr=host)
        except OSError as error:
            log.warning("metrics: cannot listen on %s:%d (%s); this process runs without a metrics endpoint - "
                        "set another port in AUSKUNFT_METRICS_PORT_ACTIONS", host, port, error.strerror or error)
            return None
        _started = (host, port)
        log.info("metrics: serving http://%s:%d/metrics", host, port)
        return _started
