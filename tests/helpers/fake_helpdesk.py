"""A helpdesk that receives Auskunft's signed ticket webhooks (bot/helpdesk/webhook.py) as its documented API says.

It checks each signature, stores a ticket once per ``Idempotency-Key`` (a repeat gets 200 and the same reference)
and counts every POST per key, so a test sees both what the helpdesk holds and how often Auskunft sent it.
:meth:`stop` takes it off the network (connections refused), :meth:`start` brings it back on the same port.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Optional

from bot.helpdesk.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature


class FakeHelpdesk:
    """Listens on ``host:port`` once started; ``tickets`` (key → body), ``posts`` (key → how many POSTs)."""

    def __init__(self, host: str, port: int, secret: str) -> None:
        self.host, self.port, self.secret = host, port, secret
        self.tickets: Dict[str, Dict[str, Any]] = {}
        self.posts: "Counter[str]" = Counter()
        self.refused = 0  # bad signatures
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None

    @property
    def url(self) -> str:
        """Where Auskunft sends tickets (``AUSKUNFT_WEBHOOK_URL``)."""
        return f"http://{self.host}:{self.port}/tickets"

    def receive(self, headers: Any, body: bytes) -> "tuple[int, Dict[str, Any]]":
        """Handle one POST: (status, JSON answer)."""
        if not verify_signature(self.secret, headers.get(TIMESTAMP_HEADER, ""), body,
                                headers.get(SIGNATURE_HEADER, "")):
            with self._lock:
                self.refused += 1
            return 401, {"error": "bad signature"}
        key = headers.get(IDEMPOTENCY_HEADER, "")
        with self._lock:
            self.posts[key] += 1
            first = key not in self.tickets
            if first:
                self.tickets[key] = json.loads(body)
            ref = f"HD-{list(self.tickets).index(key) + 1}"
        return (201 if first else 200), {"id": ref}

    def start(self) -> None:
        """Listen (again) on the same address and port."""
        helpdesk = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                code, answer = helpdesk.receive(self.headers, body)
                data = json.dumps(answer).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name="fake-helpdesk", daemon=True).start()

    def stop(self) -> None:
        """Stop listening: deliveries now fail with connection refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
