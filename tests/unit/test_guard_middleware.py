"""The plain ASGI guard: security headers on every response, 413 for announced oversized bodies."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.testclient import TestClient

from bot.web.security import PAGE_POLICY, GuardMiddleware


def client() -> TestClient:
    app = FastAPI()

    @app.get("/page")
    def page() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>")

    @app.post("/data")
    def data(payload: dict) -> JSONResponse:
        return JSONResponse(payload, headers={"Referrer-Policy": "same-origin"})

    app.add_middleware(GuardMiddleware, max_body_bytes=100)
    return TestClient(app)


def test_html_gets_the_content_security_policy_and_json_keeps_its_own_headers() -> None:
    page = client().get("/page")
    assert page.headers["content-security-policy"] == PAGE_POLICY
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"] == "no-referrer"
    data = client().post("/data", json={"a": 1})
    assert data.json() == {"a": 1}
    assert "content-security-policy" not in data.headers
    assert data.headers["referrer-policy"] == "same-origin"  # a route's own choice is kept
    assert data.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("length", ["101", "abc", "-1"])
def test_an_oversized_or_malformed_length_is_refused_before_the_body_is_read(length: str) -> None:
    refused = client().post("/data", content=b"{}", headers={"content-length": length,
                                                             "content-type": "application/json"})
    assert refused.status_code == 413
    assert "at most 100 bytes" in refused.json()["detail"]
    assert refused.headers["x-content-type-options"] == "nosniff"


def test_the_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_body_bytes"):
        GuardMiddleware(FastAPI(), 0)


def test_a_body_without_a_length_is_refused_once_it_passes_the_limit() -> None:
    chunks = (b"{" + b'"a": "' + b"x" * 40 + b'", ' + b'"b": "' + b"y" * 40 + b'", "c": 1}',)
    refused = client().post("/data", content=iter([chunks[0][:60], chunks[0][60:]]),
                            headers={"content-type": "application/json"})
    assert refused.status_code == 413 and "at most 100 bytes" in refused.json()["detail"]
    small = client().post("/data", content=iter([b'{"a": ', b"1}"]), headers={"content-type": "application/json"})
    assert small.status_code == 200 and small.json() == {"a": 1}
