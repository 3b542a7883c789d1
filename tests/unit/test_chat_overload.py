"""The web service under more chat turns than it forwards at once: 503 + Retry-After at once, nothing forwarded.

The real web service (uvicorn) in front of a slow HTTP server in Rasa's place that records what reached it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import httpx
import pytest
import uvicorn
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.config.settings import Settings
from tests.helpers.servers import ServerThread, free_port

SLOW_S = 1.0


class SlowRasa:
    """An HTTP server in Rasa's place: answers each message after ``SLOW_S`` and records it."""

    def __init__(self, port: int) -> None:
        self.received: List[str] = []

        async def webhook(request: Request) -> JSONResponse:
            body = await request.json()
            self.received.append(body["message"])
            await asyncio.sleep(SLOW_S)
            return JSONResponse([{"recipient_id": body["sender"], "text": f"Antwort auf {body['message']}"}])

        app = Starlette(routes=[Route("/webhooks/rest/webhook", webhook, methods=["POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "SlowRasa":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)


def _deployment(tmp_path: Path, queue_wait_s: float) -> Iterator[Tuple[str, SlowRasa]]:
    rasa_port, web_port = free_port(), free_port()
    settings = Settings(home=tmp_path, rasa_url=f"http://127.0.0.1:{rasa_port}", embed_in_web=False,
                        chat_in_flight=1, chat_queue_wait_s=queue_wait_s, chat_queue_max=1, background_jobs=False)
    with SlowRasa(rasa_port) as rasa, ServerThread(settings, web_port):
        yield f"http://127.0.0.1:{web_port}", rasa


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Tuple[str, SlowRasa]]:
    yield from _deployment(tmp_path, 0.4)


@pytest.fixture
def patient_deployment(tmp_path: Path) -> Iterator[Tuple[str, SlowRasa]]:
    yield from _deployment(tmp_path, 5.0)


def _shed(reason: str) -> float:
    return REGISTRY.get_sample_value("auskunft_chat_shed_total", {"reason": reason}) or 0.0


def _message(n: int) -> Dict[str, Any]:
    return {"sender": f"citizen-{n:02d}-abcdefghijkl", "message": f"Frage {n}", "lang": "de"}


def test_turns_beyond_the_cap_get_503_with_retry_after_and_are_never_forwarded(
        deployment: Tuple[str, SlowRasa]) -> None:
    base, rasa = deployment

    async def burst() -> List[Tuple[int, float, str]]:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            async def one(n: int) -> Tuple[int, float, str]:
                await asyncio.sleep(0.05 * n)  # in this order: in flight, waiting, then the queue is full
                started = time.monotonic()
                answer = await client.post("/api/chat", json=_message(n))
                return answer.status_code, time.monotonic() - started, answer.headers.get("Retry-After", "")
            return await asyncio.gather(*(one(n) for n in range(4)))

    before = _shed("queue_full"), _shed("waited")
    results = asyncio.run(burst())
    assert results[0][0] == 200
    assert [code for code, _, _ in results[1:]] == [503, 503, 503]
    assert all(retry == "1" for _, _, retry in results[1:])
    assert 0.3 < results[1][1] < 0.9  # waited its 0.4 s for the slot, then refused
    assert results[2][1] < 0.3 and results[3][1] < 0.3  # refused at once: the queue (1) was full
    assert rasa.received == ["Frage 0"]  # the refused turns never reached Rasa
    assert (_shed("queue_full") - before[0], _shed("waited") - before[1]) == (2.0, 1.0)
    again = httpx.post(f"{base}/api/chat", json=_message(9), timeout=10)
    assert again.status_code == 200 and again.json()[0]["text"] == "Antwort auf Frage 9"


def test_a_turn_whose_client_gave_up_while_waiting_is_not_forwarded(
        patient_deployment: Tuple[str, SlowRasa]) -> None:
    base, rasa = patient_deployment
    before = _shed("client_gone")
    host, port = base.removeprefix("http://").split(":")
    holder = threading.Thread(target=lambda: httpx.post(f"{base}/api/chat", json=_message(1), timeout=10))
    holder.start()
    time.sleep(0.2)  # the first turn holds the only slot
    body = httpx.Request("POST", f"{base}/api/chat", json=_message(2)).read()
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        time.sleep(0.1)  # waiting for the slot ... and the citizen closes the tab
    holder.join(10)
    deadline = time.monotonic() + 5
    while _shed("client_gone") == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _shed("client_gone") == before + 1
    assert rasa.received == ["Frage 1"]
