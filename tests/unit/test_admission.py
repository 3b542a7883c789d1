"""The admission gate on chat turns: a bounded number in flight, a bounded wait, then 503 with Retry-After."""

from __future__ import annotations

import asyncio
from typing import List

import pytest

from bot.errors import AuskunftError
from bot.web.admission import AdmissionGate, Overloaded


def test_bad_settings_are_refused_naming_the_value() -> None:
    with pytest.raises(ValueError, match="-1"):
        AdmissionGate(-1, 1.0, 1)
    with pytest.raises(ValueError, match="nan"):
        AdmissionGate(1, float("nan"), 1)
    with pytest.raises(ValueError, match="-2"):
        AdmissionGate(1, 1.0, -2)
    assert issubclass(Overloaded, AuskunftError)


def test_no_cap_lets_everything_through_at_once() -> None:
    async def scenario() -> int:
        gate = AdmissionGate(0, 0.0, 0)
        inside = 0

        async def turn() -> None:
            nonlocal inside
            async with gate.admitted():
                inside += 1
                await asyncio.sleep(0.01)

        await asyncio.gather(*(turn() for _ in range(50)))
        return inside

    assert asyncio.run(scenario()) == 50


def test_a_waiting_turn_gets_the_slot_when_it_is_released_in_time() -> None:
    async def scenario() -> List[str]:
        gate = AdmissionGate(1, 1.0, 5)
        order: List[str] = []

        async def turn(name: str, hold: float) -> None:
            async with gate.admitted():
                await asyncio.sleep(hold / 2)  # by now the other turn waits, if it does
                order.append(f"{name} in ({gate.state.in_flight} in flight, {gate.state.waiting} waiting)")
                await asyncio.sleep(hold / 2)

        await asyncio.gather(turn("first", 0.1), turn("second", 0.0))
        assert gate.state.in_flight == 0 and gate.state.waiting == 0
        return order

    assert asyncio.run(scenario()) == ["first in (1 in flight, 1 waiting)", "second in (1 in flight, 0 waiting)"]


def test_a_full_queue_refuses_at_once_and_a_long_wait_refuses_after_max_wait() -> None:
    async def scenario() -> List[str]:
        gate = AdmissionGate(1, 0.2, 1)
        results: List[str] = []
        loop = asyncio.get_running_loop()

        async def turn(hold: float) -> None:
            started = loop.time()
            try:
                async with gate.admitted():
                    await asyncio.sleep(hold)
                results.append("answered")
            except Overloaded as refused:
                results.append(f"{refused.reason} after {loop.time() - started:.1f} s, retry in "
                               f"{refused.retry_after_s} s")

        holder = asyncio.create_task(turn(0.6))
        await asyncio.sleep(0.01)
        waiter = asyncio.create_task(turn(0.0))
        await asyncio.sleep(0.01)
        await turn(0.0)  # the queue (1) is full: refused without waiting
        await asyncio.gather(holder, waiter)
        assert gate.state == type(gate.state)(0, 0)
        return results

    assert asyncio.run(scenario()) == ["queue_full after 0.0 s, retry in 1 s", "waited after 0.2 s, retry in 1 s",
                                       "answered"]


def test_a_failing_turn_gives_its_slot_back() -> None:
    async def scenario() -> str:
        gate = AdmissionGate(1, 0.1, 0)
        with pytest.raises(RuntimeError):
            async with gate.admitted():
                raise RuntimeError("Rasa answered 500")
        async with gate.admitted():  # would be refused (queue 0) if the slot had leaked
            return "admitted"

    assert asyncio.run(scenario()) == "admitted"


def test_the_middleware_gates_only_posts_to_its_paths() -> None:
    from bot.web.admission_middleware import AdmissionMiddleware

    calls: List[str] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        calls.append(f"{scope['method']} {scope['path']}")
        await asyncio.sleep(0.2)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    with pytest.raises(ValueError, match="at least one path"):
        AdmissionMiddleware(app, lambda: None, [])

    async def scenario() -> List[int]:
        gate = AdmissionGate(1, 0.0, 0)
        middleware = AdmissionMiddleware(app, lambda: gate, ["/api/chat"])
        statuses: List[int] = []

        async def request(method: str, path: str) -> None:
            sent: List[dict] = []

            async def receive() -> dict:
                return {"type": "http.request", "body": b"{}", "more_body": False}

            async def send(message: dict) -> None:
                sent.append(message)

            await middleware({"type": "http", "method": method, "path": path, "headers": []}, receive, send)
            statuses.append(sent[0]["status"])
            if sent[0]["status"] == 503:
                assert (b"retry-after", b"1") in sent[0]["headers"]

        first = asyncio.create_task(request("POST", "/api/chat"))
        await asyncio.sleep(0.05)  # it holds the only slot; no waiting allowed
        await asyncio.gather(request("POST", "/api/chat"), request("GET", "/api/chat/replies"),
                             request("GET", "/healthz"))
        await first
        return statuses

    assert asyncio.run(scenario()) == [503, 200, 200, 200]
    assert calls == ["POST /api/chat", "GET /api/chat/replies", "GET /healthz"]
