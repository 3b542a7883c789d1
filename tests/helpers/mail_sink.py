"""A real SMTP server (aiosmtpd) that keeps what it receives and can hold a transaction open on request.

``hold`` makes the server answer ``RCPT TO`` only once it is cleared: a client that is killed meanwhile never
completes its transaction, so nothing is received from it (what a mail server does with a dropped connection).
"""

from __future__ import annotations

import asyncio
import threading
from email import message_from_bytes
from email.message import Message
from typing import Any, Generator, List, Optional

from aiosmtpd.controller import Controller


class MailSink:
    """The aiosmtpd handler: ``messages`` (raw bytes), ``held_peers`` (client addresses held at RCPT)."""

    def __init__(self) -> None:
        self.messages: List[bytes] = []
        self.held_peers: List[str] = []
        self.hold = threading.Event()  # set: RCPT waits until it is cleared

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: Any) -> str:
        if self.hold.is_set():
            self.held_peers.append(str(session.peer[0]))
            while self.hold.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.content)
        return "250 Message accepted for delivery"

    def parsed(self) -> List[Message]:
        """The received messages, parsed."""
        return [message_from_bytes(raw) for raw in self.messages]


def running_sink(host: str, port: int, sink: Optional[MailSink] = None) -> Generator[MailSink, None, None]:
    """Run ``sink`` (a new one by default) on ``host:port`` until the generator is closed (for fixtures)."""
    sink = sink or MailSink()
    controller = Controller(sink, hostname=host, port=port)
    controller.start()
    try:
        yield sink
    finally:
        sink.hold.clear()
        controller.stop()
