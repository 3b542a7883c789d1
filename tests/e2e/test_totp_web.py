"""The second factor through the real web service (uvicorn): set up on /inbox/zwei-faktor, then every password
login asks for a code before there is a session; a code works once; wrong codes are throttled; with
``totp_required`` an account without a second factor sets it up in the login itself."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Iterator, cast

import httpx
import pyotp
import pytest
from fastapi import FastAPI

from bot.config.settings import Settings
from bot.staff.auth import create_agent
from bot.web.deps import services_of
from tests.helpers.inbox import PASSWORD
from tests.helpers.servers import ServerThread, free_port
from tests.helpers.ticket_api import TOKEN

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
COOKIE = "auskunft_agent"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SECRET = re.compile(r'id="totp-schluessel">([A-Z2-7 ]+)<')


def _web(tmp_path: Path, **settings: object) -> Iterator[str]:
    config = Settings(home=tmp_path / "home", api_token=TOKEN, database_url=f"sqlite:///{tmp_path / 't.sqlite3'}",
                      **settings)
    port = free_port()
    with ServerThread(config, port) as server:
        app = cast(FastAPI, server.server.config.app)
        with services_of(app).sessions() as session:
            create_agent(session, "weber", "Frau Weber", PASSWORD, ["buergerservice"], known=services_of(app).departments)
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def web(tmp_path: Path) -> Iterator[str]:
    yield from _web(tmp_path)


def _password(client: httpx.Client, web: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get(f"{web}/inbox/login")
    token = CSRF.search(form.text)
    assert token
    answer = client.post(f"{web}/inbox/login", data={"username": "weber", "password": password,
                                                      "csrf_token": token.group(1), "next": "/inbox/analytics"})
    if answer.headers.get("location") != "/inbox/login/code":
        return answer
    assert answer.status_code == 303 and COOKIE not in answer.cookies  # the password alone gives no session
    return client.get(f"{web}/inbox/login/code")


def _code(client: httpx.Client, web: str, page: httpx.Response, code: str) -> httpx.Response:
    token = CSRF.search(page.text)
    assert token, page.text[:300]
    return client.post(f"{web}/inbox/login/code", data={"code": code, "csrf_token": token.group(1)})


def test_enrol_then_every_login_needs_a_fresh_code(web: str) -> None:
    with httpx.Client(follow_redirects=False, timeout=30) as client:
        assert _password(client, web).status_code == 303  # no second factor yet
        page = client.get(f"{web}/inbox/zwei-faktor")
        secret = SECRET.search(page.text)
        assert secret and "otpauth://totp/Auskunft:weber?secret=" in page.text
        totp = pyotp.TOTP(secret.group(1).replace(" ", ""))
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        wrong = client.post(f"{web}/inbox/zwei-faktor", data={"code": "000000" if totp.now() != "000000" else "1" * 6,
                                                              "csrf_token": csrf})
        assert wrong.status_code == 400 and "Der Code ist falsch" in wrong.text
        done = client.post(f"{web}/inbox/zwei-faktor", data={"code": totp.now(), "csrf_token": csrf})
        assert done.status_code == 200 and "ist eingerichtet" in done.text

    with httpx.Client(follow_redirects=False, timeout=30) as client:
        asked = _password(client, web)
        assert asked.status_code == 200 and "Code eingeben" in asked.text and COOKIE not in asked.cookies
        assert client.get(f"{web}/inbox").status_code == 303  # the password alone gave no session
        refused = _code(client, web, asked, "000000" if totp.now() != "000000" else "111111")
        assert refused.status_code == 401 and COOKIE not in refused.cookies
        code = totp.at(time.time() + 30)  # the next step: the current one may have been used by the enrolment
        done = _code(client, web, refused, code)
        assert done.status_code == 303 and done.headers["location"] == "/inbox/analytics" and done.cookies.get(COOKIE)
        assert client.get(f"{web}/inbox").status_code == 200

    with httpx.Client(follow_redirects=False, timeout=30) as client:  # the same code again: used up
        asked = _password(client, web)
        replay = _code(client, web, asked, code)
        assert replay.status_code == 401 and COOKIE not in replay.cookies
        throttled = _code(client, web, replay, code)  # a wrong code counts: one attempt a second after a failure
        assert throttled.status_code == 429 and "Zu viele fehlgeschlagene Anmeldungen" in throttled.text
        assert throttled.headers["retry-after"] == "1" and COOKIE not in throttled.cookies


def test_required_second_factor_is_set_up_in_the_login(tmp_path: Path) -> None:
    for web in _web(tmp_path, totp_required=True):
        with httpx.Client(follow_redirects=False, timeout=30) as client:
            asked = _password(client, web)
            assert asked.status_code == 200 and COOKIE not in asked.cookies
            secret = SECRET.search(asked.text)
            assert secret and "Für Ihr Konto ist ein zweiter Faktor vorgeschrieben" in asked.text
            done = _code(client, web, asked, pyotp.TOTP(secret.group(1).replace(" ", "")).now())
            assert done.status_code == 303 and done.cookies.get(COOKIE)
        with httpx.Client(follow_redirects=False, timeout=30) as client:  # from now on: the code of that secret
            asked = _password(client, web)
            assert asked.status_code == 200 and not SECRET.search(asked.text) and "sechsstelligen Code" in asked.text
            wrong = _password(client, web, "ein-falsches-passwort-99")
            assert wrong.status_code == 401 and "Code eingeben" not in wrong.text
