"""Oversized and malformed requests to the citizen API get a clear 4xx, never a 500 or a hang."""

from __future__ import annotations

import uuid
from typing import Iterator

import httpx
import pytest

from tests.e2e.conftest import Running
from tests.security.helpers import chat

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
CONVERSATION = {"X-Auskunft-Conversation": "0123456789abcdef0123456789abcdef"}


@pytest.mark.parametrize("message, status", [
    ("", 400), ("   \u200b\u202e  ", 400), (None, 400), (42, 400), (["Hallo"], 400), ({"text": "Hallo"}, 400),
    ("x" * 100_000, 413), ("Hund " * 1000, 413),
])
def test_bad_messages_are_refused(services: Running, message: object, status: int) -> None:
    answer = chat(services, message)
    assert answer.status_code == status, answer.text[:300]
    assert isinstance(answer.json()["detail"], (str, list))


@pytest.mark.parametrize("body", [
    b"", b"{", b"[]", b'"Hallo"', b"null", b'{"message": "Hallo"}', b'{"sender": "x", "message": "Hallo"}',
    b'{"sender": "' + b"a" * 65 + b'", "message": "Hallo"}', b'{"sender": "../../etc/passwd0000", "message": "Hi"}',
    b'{"sender": "0123456789abcdef", "message": "Hallo", "lang": "xx"}',
    b'{"sender": "0123456789abcdef", "message": "Hallo", "agency": "../kb"}',
    b'{"sender": "0123456789abcdef", "message": "Hallo", "agency": "cdorf"}',
    b"\xff\xfe\x00garbage",
])
def test_malformed_bodies_are_refused(services: Running, body: bytes) -> None:
    answer = httpx.post(f"{services.web}/api/chat", content=body, headers={"content-type": "application/json"},
                        timeout=30)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])


def test_a_body_over_the_limit_is_refused_with_or_without_a_length(services: Running) -> None:
    big = b'{"sender": "0123456789abcdef", "message": "' + b"x" * (1024 * 1024) + b'"}'
    announced = httpx.post(f"{services.web}/api/chat", content=big, headers={"content-type": "application/json"},
                           timeout=30)
    assert announced.status_code == 413

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start:start + 65536]

    unannounced = httpx.post(f"{services.web}/api/chat", content=chunks(), timeout=30,
                             headers={"content-type": "application/json"})
    assert unannounced.status_code == 413


@pytest.mark.parametrize("params", [{"after": "99999999999999999999"}, {"after": "-1"}, {"after": "abc"},
                                    {"closed_after": "1e400"}, {"after": str(2**63)}])
def test_reply_ids_out_of_range_are_a_4xx(services: Running, params: dict) -> None:
    answer = httpx.get(f"{services.web}/api/chat/replies", params=params, headers=CONVERSATION, timeout=30)
    assert answer.status_code == 422, answer.text[:300]


@pytest.mark.parametrize("header", [None, "", "kurz", "a" * 65, "../../etc/passwd-0000", "0123456789abcdef!"])
def test_a_bad_conversation_header_is_a_4xx(services: Running, header: object) -> None:
    headers = {} if header is None else {"X-Auskunft-Conversation": str(header)}
    for method in ("GET", "DELETE"):
        path = "/api/chat/replies" if method == "GET" else "/api/chat/conversation"
        answer = httpx.request(method, f"{services.web}{path}", headers=headers, timeout=30)
        assert 400 <= answer.status_code < 500, (method, header, answer.status_code)


def test_the_case_page_is_never_cached(services: Running) -> None:
    form = httpx.get(f"{services.web}/fall", timeout=30)
    assert form.headers["cache-control"] == "no-store"
    for number in ("AK-0000-0000", "nonsense", "x" * 41):
        answer = httpx.post(f"{services.web}/fall", data={"number": number}, timeout=30)
        assert 400 <= answer.status_code < 500 and answer.headers.get("cache-control") == "no-store" \
            or answer.status_code == 422, (number, answer.status_code)


def test_the_ticket_api_refuses_a_wrong_or_missing_token(services: Running) -> None:
    for headers in ({}, {"Authorization": "Bearer falsch"}, {"Authorization": f"Basic {services.token}"},
                    {"Authorization": f"Bearer {services.token}x"}):
        answer = httpx.get(f"{services.web}/api/tickets", headers=headers, timeout=30)
        assert answer.status_code in (401, 403), (headers, answer.status_code)
    sender = uuid.uuid4().hex
    assert chat(services, "Hallo", sender).status_code == 200  # the citizen API itself needs no token
