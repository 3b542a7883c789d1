"""Servers for tests: a free local port, and the real web service running in a background thread."""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from typing import TYPE_CHECKING, Set

if TYPE_CHECKING:
    from bot.config.settings import Settings


_HANDED_OUT: Set[int] = set()
_RANGE = (20000, 32000)  # below Linux's ephemeral range (32768-60999), see below


def _range() -> "tuple[int, int]":
    """The ports to pick from: ``AUSKUNFT_TEST_PORTS=LOW-HIGH`` (e.g. on a shared machine), else ``_RANGE``."""
    span = os.environ.get("AUSKUNFT_TEST_PORTS", "")
    low, _, high = span.partition("-")
    return (int(low), int(high)) if low.isdigit() and high.isdigit() and int(low) <= int(high) else _RANGE


def free_port(span: int = 1) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, never handed out twice in this process.

    With ``span`` > 1 the next ``span - 1`` ports are free (and reserved) too: ``auskunft run`` puts
    its Rasa processes on consecutive ports.

    The port comes from below the kernel's ephemeral range: a port the kernel picked for ``bind(0)`` is
    just as likely to be picked again for an outgoing connection while a slow service (Rasa takes
    ~20 s) is still starting, and then that service fails with "address already in use".
    """
    low, high = _range()
    for _ in range(200):
        port = random.randint(low, max(low, high - span + 1))
        block = set(range(port, port + span))
        if block & _HANDED_OUT or not all(_bindable(p) for p in block):
            continue
        _HANDED_OUT.update(block)
        return port
    raise RuntimeError(f"no free TCP port in {(low, high)} after 200 tries")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class ServerThread:
    """The real web service in a background thread (uvicorn); a context manager that waits until it listens."""

    def __init__(self, settings: Settings, port: int) -> None:
        import uvicorn  # here, so that ``free_port`` alone does not load the web stack

        from bot.web.app import create_app

        self.server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
