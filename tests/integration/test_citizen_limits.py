"""The limits on the citizen API through the real web service (uvicorn, SQLite), over HTTP.

A stand-in for Rasa listens where the web service expects Rasa's REST channel: for every message it runs the real
``ActionCreateTicket`` (as Rasa's action server would once the handoff form is filled), which creates the ticket
through the real ticket client and API. The web service is behind a "proxy" (127.0.0.1 is trusted), so each
request names its citizen's address in ``X-Forwarded-For``, as a reverse proxy does.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionCreateTicket
from bot.config.settings import Settings, get_settings
from tests.helpers.servers import ServerThread, free_port
from tests.helpers.ticket_api import AUTH, TOKEN

DOMAIN: Dict[str, Any] = {"slots": {}, "forms": {}}
BUDGET = 5
CHAT_BUDGET = 40


_GIVEN: Set[int] = set()


def _port() -> int:
    """A free port; ``AUSKUNFT_TEST_PORTS=26000-26999`` keeps it in a range (shared machines)."""
    span = os.environ.get("AUSKUNFT_TEST_PORTS")
    if not span:
        return free_port()
    low, high = (int(p) for p in span.split("-"))
    import socket

    for port in range(low, high + 1):
        if port in _GIVEN:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            _GIVEN.add(port)
            return port
    raise RuntimeError(f"no free port in {span}")


class FakeRasa(BaseHTTPRequestHandler):
    """Rasa's REST channel, reduced to: every message completes a handoff (consent given, no e-mail)."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        sender = body["sender"]
        # A typed "/ask_human" that no button offered arrives as the words "ask_human" (bot.channels.payloads);
        # the real NLU routes a request for a person to the handoff just the same, and so does this stand-in.
        if body["message"] not in ("/ask_human", "ask_human"):
            self._answer([{"recipient_id": sender, "text": "Gern."}])
            return
        latest = {"text": body["message"], "intent": {"name": "skip_email", "confidence": 1.0}, "entities": []}
        slots = {"handoff_consent": True, "handoff_email": "-", "handoff_reason": "asked_for_human",
                 "handoff_question": body["message"], "handoff_candidates": []}
        tracker = Tracker(sender, slots, latest, [], False, None, {}, "action_listen")
        dispatcher = CollectingDispatcher()
        asyncio.run(ActionCreateTicket().run(dispatcher, tracker, DOMAIN))
        self._answer([{"recipient_id": sender, **{k: v for k, v in message.items() if v}}  # as Rasa sends them
                      for message in dispatcher.messages])

    def _answer(self, messages: List[Dict[str, Any]]) -> None:
        answer = json.dumps(messages).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def web(isolated_settings: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    rasa_port, web_port = _port(), _port()
    rasa = ThreadingHTTPServer(("127.0.0.1", rasa_port), FakeRasa)
    threading.Thread(target=rasa.serve_forever, daemon=True).start()
    for name, value in {"WEB_PORT": web_port, "RASA_PORT": rasa_port, "RASA_WORKERS": 1, "TRUSTED_PROXIES": "127.0.0.1",
                        "LIMIT_CHAT_PER_ADDRESS": CHAT_BUDGET, "LIMIT_HANDOFFS_PER_ADDRESS": BUDGET,
                        "EMBED_IN_WEB": "false"}.items():
        monkeypatch.setenv(f"AUSKUNFT_{name}", str(value))
    get_settings.cache_clear()
    settings: Settings = get_settings()
    assert settings.api_token is not None and settings.api_token.get_secret_value() == TOKEN
    with ServerThread(settings, web_port):
        yield f"http://127.0.0.1:{web_port}"
    rasa.shutdown()


def _say(base: str, address: str, message: str, sender: str = "") -> httpx.Response:
    return httpx.post(f"{base}/api/chat", json={"sender": sender or uuid.uuid4().hex, "message": message},
                      headers={"X-Forwarded-For": address}, timeout=30)


def _tickets(base: str) -> List[Dict[str, Any]]:
    return httpx.get(f"{base}/api/tickets", params={"limit": 1000}, headers=AUTH).json()  # type: ignore[no-any-return]


def test_a_burst_from_one_address_gets_429_while_another_address_is_served(web: str) -> None:
    codes = [_say(web, "2001:db8:1:2::7", "Hallo", sender="flood-conversation-" + str(i).zfill(4)).status_code
             for i in range(CHAT_BUDGET + 4)]
    assert codes[:CHAT_BUDGET] == [200] * CHAT_BUDGET and set(codes[CHAT_BUDGET:]) == {429}
    rotated = _say(web, "2001:db8:1:2:ffff:1:2:3", "Hallo")  # another address in the same /64: the same budget
    assert rotated.status_code == 429
    assert int(rotated.headers["Retry-After"]) > 0 and "send it again" in rotated.json()["detail"]
    assert _say(web, "198.51.100.23", "Hallo").status_code == 200  # another citizen is served meanwhile
    assert _say(web, "2001:db8:1:3::7", "Hallo").status_code == 200  # ... and another /64


def test_thirty_handoffs_from_one_address_make_at_most_the_budget_of_tickets(web: str) -> None:
    flood = [_say(web, "203.0.113.9", "/ask_human") for _ in range(30)]
    assert all(reply.status_code == 200 for reply in flood)  # under the chat limit; the handoffs are what is refused
    tickets = _tickets(web)
    assert len(tickets) == BUDGET
    texts = [" ".join(m.get("text") or "" for m in reply.json()) for reply in flood]
    refused = [text for text in texts if "versuchen Sie es in" in text]
    assert len(refused) == 30 - BUDGET and all("an die Verwaltung" in text for text in refused)
    assert all(m.get("custom", {}).get("step") == "refused" for reply in flood[BUDGET:] for m in reply.json()
               if "custom" in m)
    other = _say(web, "198.51.100.50", "/ask_human")  # a citizen elsewhere still reaches a person
    assert any("custom" in m and m["custom"].get("step") == "created" for m in other.json())
    assert len(_tickets(web)) == BUDGET + 1
