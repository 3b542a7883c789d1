"""Staff sessions: CSRF on every form, no session fixation, no open redirect after login, no trusted-banner text."""

from __future__ import annotations

import html
import random
import re
import string
import uuid
from typing import Iterator
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.e2e.conftest import Running
from tests.security.helpers import add_account, csrf_of, log_in, signed_in

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
COOKIE = "auskunft_agent"
REDIRECTS = ["//evil.example", "/\\evil.example", "\\\\evil.example", "https:evil.example", "https://evil.example",
             "http:/evil.example", "%2F%2Fevil.example", "/%2F%2Fevil.example", "%5C%5Cevil.example",
             "/inbox/..//evil.example", "/inbox/%2e%2e/%2e%2e//evil.example", "//evil.example/inbox",
             "/\t/evil.example", " //evil.example", "\n//evil.example", "javascript:alert(1)", "///evil.example", "/inbox@evil.example",
             "//evil.example%2Finbox", "/inbox/\u2215\u2215evil.example", "https:\\\\evil.example"]


@pytest.fixture(scope="module")
def agent(services: Running) -> Iterator[str]:
    name = "angriff-" + "".join(random.choices(string.ascii_lowercase, k=6))
    add_account(services, name, "--department", "buergerservice")
    yield name


def _ticket(services: Running) -> str:
    letters = string.ascii_uppercase + string.digits
    case = "AK-" + "".join(random.choices(letters, k=4)) + "-" + "".join(random.choices(letters, k=4))
    body = {"case_number": case, "conversation_id": uuid.uuid4().hex, "language": "de", "reason": "low_confidence",
            "question": "Wie melde ich meinen Wohnsitz um?", "consent": True, "candidates": [], "transcript": []}
    created = httpx.post(f"{services.web}/api/tickets", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {services.token}"})
    assert created.status_code == 201, created.text
    return case


@pytest.mark.parametrize("token", [None, "", "falsch", "A" * 43])
def test_a_form_post_without_the_right_csrf_token_is_refused(services: Running, agent: str,
                                                             token: object) -> None:
    case = _ticket(services)
    with signed_in(services, agent) as client:
        data = {} if token is None else {"csrf_token": token}
        for what, form in (("assign", {}), ("reply", {"text": "Hallo"}), ("status", {"status": "resolved"})):
            refused = client.post(f"/inbox/tickets/{case}/{what}", data={**data, **form})
            assert refused.status_code == 403, (what, refused.status_code, refused.text[:200])
        ticket = httpx.get(f"{services.web}/api/tickets/{case}", timeout=30,
                           headers={"Authorization": f"Bearer {services.token}"}).json()
        assert ticket["status"] == "new" and ticket["assignee"] is None and not ticket.get("replies")
        page = client.get(f"/inbox/tickets/{case}")
        done = client.post(f"/inbox/tickets/{case}/assign", data={"csrf_token": csrf_of(page.text)})
        assert done.status_code == 303  # the same request with the page's token goes through


def test_the_login_form_needs_its_own_token(services: Running, agent: str) -> None:
    with httpx.Client(base_url=services.web, follow_redirects=False, timeout=30) as client:
        for token in (None, "", "falsch"):
            data = {"username": agent, "password": "ein-langes-angriffs-passwort-42"}
            refused = client.post("/inbox/login", data=data if token is None else {**data, "csrf_token": token})
            assert refused.status_code != 303 and COOKIE not in refused.cookies


def test_a_session_cookie_planted_before_login_is_not_the_session_after(services: Running, agent: str) -> None:
    with httpx.Client(base_url=services.web, follow_redirects=False, timeout=30) as victim:
        planted = "angreifer-kennt-diesen-wert-0123456789abcdef"
        victim.cookies.set(COOKIE, planted, domain="127.0.0.1", path="/inbox")
        done = log_in(services, agent, victim)
        assert done.status_code == 303
        issued = done.cookies.get(COOKIE)
        assert issued and issued != planted
    with httpx.Client(base_url=services.web, follow_redirects=False, timeout=30) as attacker:
        attacker.cookies.set(COOKIE, planted, domain="127.0.0.1", path="/inbox")
        assert attacker.get("/inbox").status_code == 303  # to the login page: the planted value is no session


def test_a_session_ends_at_logout_and_its_cookie_is_useless_afterwards(services: Running, agent: str) -> None:
    with signed_in(services, agent) as client:
        stolen = client.cookies.get(COOKIE)
        page = client.get("/inbox")
        assert page.status_code == 200
        assert client.post("/inbox/logout", data={}).status_code == 403  # logging out needs the token too
        assert client.post("/inbox/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    with httpx.Client(base_url=services.web, follow_redirects=False, timeout=30) as thief:
        thief.cookies.set(COOKIE, stolen or "", domain="127.0.0.1", path="/inbox")
        assert thief.get("/inbox").status_code == 303


@pytest.mark.parametrize("target", REDIRECTS)
def test_the_login_never_redirects_off_site(services: Running, agent: str, target: str) -> None:
    done = log_in(services, agent, next_url=target)
    assert done.status_code == 303
    location = done.headers["location"]
    landed = urlsplit(urljoin(f"{services.web}/inbox/login", location))
    assert (landed.scheme, landed.netloc) == tuple(urlsplit(services.web)[:2]), location
    assert not location.startswith(("//", "/\\", "\\")) and "evil.example" not in landed.netloc
    form = httpx.get(f"{services.web}/inbox/login", params={"next": target}, timeout=30)
    carried = re.search(r'name="next" value="([^"]*)"', form.text)
    assert form.status_code == 200 and carried is not None
    kept = urlsplit(urljoin(f"{services.web}/inbox/login", html.unescape(carried.group(1))))
    assert (kept.scheme, kept.netloc) == tuple(urlsplit(services.web)[:2]), carried.group(1)


def test_the_handover_banner_shows_no_text_from_the_link(services: Running, agent: str) -> None:
    with signed_in(services, agent) as client:
        page = client.get("/inbox", params={"meldung": "uebergeben", "fall": "AK-7KQ2-M9XD",
                                            "an": "Konto gesperrt: rufen Sie 0900-1234 an"})
    assert page.status_code == 200 and "0900-1234" not in page.text and "gesperrt" not in page.text
