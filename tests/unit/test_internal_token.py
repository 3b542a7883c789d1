"""The internal secret: Rasa's REST channel and the action server refuse calls without it; the web service sends it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List

import httpx
import pytest
from fastapi import HTTPException
from pydantic import SecretStr
from sanic import Sanic

from bot.config.settings import Settings, get_settings
from bot.run.internal_auth import HEADER, expected_token, is_allowed, outgoing_headers
from bot.web.routers.chat import _post_to_rasa

TOKEN = "geheim-0123456789abcdef"


def test_without_a_secret_everything_passes_and_with_one_only_the_exact_secret() -> None:
    assert is_allowed(None, {}) and is_allowed(None, {HEADER: "whatever"})
    assert is_allowed(TOKEN, {HEADER: TOKEN})
    for wrong in ({}, {HEADER: ""}, {HEADER: TOKEN[:-1]}, {HEADER: TOKEN + "x"}, {HEADER: "ü" * 5}):
        assert not is_allowed(TOKEN, wrong), wrong
    assert expected_token(Settings(internal_token=SecretStr(""))) is None  # empty = not set
    assert outgoing_headers(Settings(internal_token=SecretStr(TOKEN))) == {HEADER: TOKEN}
    assert outgoing_headers(Settings()) == {}


@pytest.fixture
def with_token(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AUSKUNFT_INTERNAL_TOKEN", TOKEN)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _request(path: str, headers: Dict[str, str], body: bytes = b"") -> Any:
    return SimpleNamespace(path=path, headers=headers, body=body, json=json.loads(body) if body else None)


def test_the_rest_channel_answers_401_without_the_secret_before_reading_the_message(with_token: None) -> None:
    from bot.channels.rest import ValidatedRestInput

    received: List[Any] = []

    async def on_message(message: Any) -> None:
        received.append(message)

    routes = {route.uri: route.handler for route in ValidatedRestInput().blueprint(on_message)._future_routes}
    body = json.dumps({"sender": "citizen-1", "message": "Hallo"}).encode()
    for headers in ({}, {HEADER: "forged"}):
        refused = asyncio.run(routes["/webhook"](_request("/webhooks/rest/webhook", headers, body)))
        assert refused.status == 401 and b"X-Auskunft-Internal" in refused.body
    assert received == []
    accepted = asyncio.run(routes["/webhook"](_request("/webhooks/rest/webhook", {HEADER: TOKEN}, body)))
    assert accepted.status == 200 and [m.text for m in received] == ["Hallo"]
    assert asyncio.run(routes["/"](_request("/webhooks/rest/", {}))).status == 200  # the health route stays open


def test_the_action_server_refuses_every_route_but_health_without_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.run.action_server import build_app

    monkeypatch.setattr(Sanic, "test_mode", True)  # rasa_sdk names every app "rasa_sdk"
    checks = list(build_app("actions", TOKEN).request_middleware)
    assert len(checks) == 1

    def status(path: str, headers: Dict[str, str]) -> int:
        answer = asyncio.run(checks[0](_request(path, headers)))
        return 0 if answer is None else int(answer.status)

    assert status("/webhook", {}) == 401 and status("/actions", {HEADER: "forged"}) == 401
    assert status("/webhook", {HEADER: TOKEN}) == 0 and status("/health", {}) == 0  # 0: passed on to the route
    open_checks = list(build_app("actions", None).request_middleware)  # single host, no secret: as before
    assert asyncio.run(open_checks[0](_request("/webhook", {}))) is None


def _client(seen: List[httpx.Request], down: str = "", slow: str = "") -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if down and str(request.url).startswith(down):
            raise httpx.ConnectError("refused", request=request)
        if slow and str(request.url).startswith(slow):
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json=[{"text": f"von {request.url.host}"}])

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


def test_the_web_service_sends_the_secret_and_tries_the_next_rasa_only_when_one_refuses(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, rasa_url="http://10.0.0.11:5005,http://10.0.0.12:5005",
                        internal_token=SecretStr(TOKEN))
    payload = {"sender": "c1", "message": "Hallo"}
    seen: List[httpx.Request] = []
    answer = asyncio.run(_post_to_rasa(_client(seen), settings, "c1", payload))
    assert len(seen) == 1 and seen[0].headers[HEADER] == TOKEN and answer.status_code == 200
    first = seen[0].url.host
    seen.clear()
    answer = asyncio.run(_post_to_rasa(_client(seen, down=f"http://{first}"), settings, "c1", payload))
    assert [r.url.host for r in seen] == [first, ({"10.0.0.11", "10.0.0.12"} - {first}).pop()]
    assert answer.json()[0]["text"] != f"von {first}"
    seen.clear()
    with pytest.raises(HTTPException) as err:  # the message may have arrived: not sent a second time
        asyncio.run(_post_to_rasa(_client(seen, slow=f"http://{first}"), settings, "c1", payload))
    assert err.value.status_code == 503 and len(seen) == 1
    seen.clear()
    with pytest.raises(HTTPException):  # all down
        asyncio.run(_post_to_rasa(_client(seen, down="http://10."), settings, "c1", payload))
    assert len(seen) == 2


@pytest.mark.parametrize("endpoints", ["endpoints.yml", "endpoints.scale-out.yml"])
def test_rasa_sends_the_secret_to_the_action_server_as_endpoints_yml_says(monkeypatch: pytest.MonkeyPatch,
                                                                          endpoints: str) -> None:
    from rasa.utils.endpoints import read_endpoint_config

    from tests.conftest import ROOT

    monkeypatch.setenv("AUSKUNFT_ACTION_URL", "http://10.0.0.11:5055/webhook")
    for name in ("TRACKER_DB", "PG_HOST", "PG_PORT", "PG_DB", "PG_USER", "PG_PASSWORD", "PG_SSLMODE", "REDIS_HOST",
                 "REDIS_PORT", "REDIS_PASSWORD", "REDIS_TLS", "REDIS_CA_CERTS"):
        monkeypatch.setenv(f"AUSKUNFT_{name}", "1")
    monkeypatch.setenv("AUSKUNFT_INTERNAL_TOKEN", TOKEN)
    action = read_endpoint_config(str(ROOT / endpoints), "action_endpoint")
    assert action is not None and action.url == "http://10.0.0.11:5055/webhook"
    assert action.headers == {HEADER: TOKEN}
    monkeypatch.setenv("AUSKUNFT_INTERNAL_TOKEN", "")  # single host: set but empty, and the action server checks nothing
    action = read_endpoint_config(str(ROOT / endpoints), "action_endpoint")
    assert action is not None and action.headers == {HEADER: ""}
