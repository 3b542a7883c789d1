"""Staff sign-in against a real OpenID Connect provider (the certified ``oidc-provider`` package on Node.js) and
the real web service (uvicorn), walked with an HTTP client as a browser would: the provider's groups become
departments, agencies and roles; a tampered state, a wrong nonce, an ID token for another audience (or signed by
another key, expired, from another issuer), a person without a mapped group and a disabled account are each refused with a German message and no session."""

from __future__ import annotations

import logging
from typing import Iterator, NamedTuple, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from bot.config.settings import Settings
from bot.staff.models import Agent
from bot.web.deps import services_of
from tests.helpers.oidc_provider import OidcProvider, sign_in_at_provider
from tests.helpers.servers import ServerThread, free_port
from tests.helpers.ticket_api import TOKEN

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
COOKIE = "auskunft_agent"
SECRET = "ein-client-geheimnis-nur-fuer-tests-1234"
GROUPS = """groups:
  /Auskunft/Bürgerservice:
    departments: [buergerservice]
  /Auskunft/Standesamt:
    departments: [standesamt]
  /Auskunft/Redaktion:
    roles: [editor]
"""
USERS = {
    "f3a1-weber": {"name": "Petra Weber", "preferred_username": "p.weber",
                   "groups": ["/Auskunft/Bürgerservice", "/Auskunft/Redaktion", "/Andere/Kantine"]},
    "77c2-gast": {"name": "Gerd Gast", "preferred_username": "g.gast", "groups": ["/Andere/Kantine"]},
}


class Stack(NamedTuple):
    web: str
    provider: OidcProvider
    app: FastAPI


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("oidc")
    (tmp / "oidc-groups.yml").write_text(GROUPS, encoding="utf-8")
    port = free_port()
    web = f"http://127.0.0.1:{port}"
    clients = [{"client_id": "auskunft", "client_secret": SECRET, "redirect_uris": [f"{web}/inbox/oidc/callback"]}]
    with OidcProvider(clients, USERS) as provider:
        settings = Settings(home=tmp / "home", api_token=TOKEN, database_url=f"sqlite:///{tmp / 'tickets.sqlite3'}",
                            oidc_issuer=provider.issuer, oidc_client_id="auskunft", oidc_client_secret=SECRET,
                            oidc_groups_file=tmp / "oidc-groups.yml")
        with ServerThread(settings, port) as server:
            yield Stack(web, provider, cast(FastAPI, server.server.config.app))


def _browser() -> httpx.Client:
    return httpx.Client(follow_redirects=False, timeout=30)


def _start(stack: Stack, client: httpx.Client, next_url: str = "/inbox") -> str:
    page = client.get(f"{stack.web}/inbox/login")
    assert "Mit dem Dienstkonto anmelden" in page.text
    started = client.get(f"{stack.web}/inbox/oidc/start", params={"next": next_url})
    assert started.status_code == 303 and started.headers["location"].startswith(stack.provider.issuer + "/auth?")
    query = dict(parse_qsl(urlsplit(started.headers["location"]).query))
    assert query["code_challenge_method"] == "S256" and len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    return started.headers["location"]


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode({**dict(parse_qsl(parts.query)), **changes})))


def _agent(stack: Stack, username: str) -> Agent:
    with services_of(stack.app).sessions() as session:
        agent = session.execute(select(Agent).where(Agent.username == username)).scalar_one_or_none()
        session.expunge_all()
    return agent  # type: ignore[return-value]


def _refused(answer: httpx.Response, status: int, text: str) -> None:
    assert answer.status_code == status, (answer.status_code, answer.text[:500])
    assert text in answer.text and COOKIE not in answer.cookies


def test_sign_in_maps_the_groups_and_starts_a_session(stack: Stack) -> None:
    with _browser() as client:
        back = sign_in_at_provider(client, _start(stack, client, "/inbox/editor"), "f3a1-weber", stack.web)
        assert "code=" in back and "state=" in back
        done = client.get(back)
        assert done.status_code == 303 and done.headers["location"] == "/inbox/editor", done.text[:500]
        assert done.cookies.get(COOKIE)
        page = client.get(f"{stack.web}/inbox")
        assert page.status_code == 200 and "Angemeldet als Petra Weber" in page.text
        agent = _agent(stack, "p.weber")
        assert agent.external_subject == f"{stack.provider.issuer} f3a1-weber"
        assert (agent.departments, agent.is_editor, agent.is_manager, agent.agencies) == (
            ["buergerservice"], True, False, None)
        replay = client.get(back)  # the same answer again: its cookie is gone, and the code is used up
        _refused(replay, 400, "Die Anmeldung ist abgelaufen")
    with _browser() as client:  # the password form does not let a provider account in
        form = client.get(f"{stack.web}/inbox/login")
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        refused = client.post(f"{stack.web}/inbox/login", data={"username": "p.weber", "password": "x" * 20,
                                                                  "csrf_token": token})
        assert refused.status_code == 401 and COOKIE not in refused.cookies


def test_a_tampered_state_is_refused(stack: Stack) -> None:
    with _browser() as client:
        back = sign_in_at_provider(client, _start(stack, client), "f3a1-weber", stack.web)
        _refused(client.get(_with(back, state="A" * 43)), 400, "Die Anmeldung ist abgelaufen")
        _refused(client.get(_with(back, state="")), 400, "Die Anmeldung ist abgelaufen")
    with _browser() as client, _browser() as attacker:  # an answer meant for another browser (login CSRF)
        back = sign_in_at_provider(attacker, _start(stack, attacker), "f3a1-weber", stack.web)
        _refused(client.get(back), 400, "Die Anmeldung ist abgelaufen")


def test_an_id_token_with_a_wrong_nonce_is_refused(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    with _browser() as client, caplog.at_level(logging.WARNING, logger="bot.web.routers.inbox_oidc"):
        authorize = _with(_start(stack, client), nonce="ein-anderer-nonce-aus-einer-alten-anmeldung")
        back = sign_in_at_provider(client, authorize, "f3a1-weber", stack.web)
        _refused(client.get(back), 400, "Die Antwort des Anmeldedienstes konnte nicht geprüft werden")
    assert "'nonce'" in caplog.text


def test_an_id_token_for_another_audience_is_refused(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    with _browser() as client, caplog.at_level(logging.WARNING, logger="bot.web.routers.inbox_oidc"):
        back = sign_in_at_provider(client, _start(stack, client), "f3a1-weber", stack.web)
        stack.provider.next_id_token_claims(aud="andere-anwendung", azp="andere-anwendung")
        _refused(client.get(back), 400, "Die Antwort des Anmeldedienstes konnte nicht geprüft werden")
    assert "audience 'andere-anwendung'" in caplog.text
    with _browser() as client:  # the provider's key signs the re-signed token: the same flow untouched passes
        back = sign_in_at_provider(client, _start(stack, client), "f3a1-weber", stack.web)
        stack.provider.next_id_token_claims(name="Petra Weber")
        assert client.get(back).status_code == 303


@pytest.mark.parametrize("claims, reason", [({"_foreign_key": True}, "bad_signature"),
                                            ({"exp": 1_000_000_000, "iat": 999_999_000}, "expired_token"),
                                            ({"iss": "https://login.example/realms/andere"}, "'iss'")])
def test_an_id_token_with_a_foreign_signature_an_expiry_or_another_issuer_is_refused(
        stack: Stack, caplog: pytest.LogCaptureFixture, claims: dict, reason: str) -> None:
    with _browser() as client, caplog.at_level(logging.WARNING, logger="bot.web.routers.inbox_oidc"):
        back = sign_in_at_provider(client, _start(stack, client), "f3a1-weber", stack.web)
        stack.provider.next_id_token_claims(**claims)
        _refused(client.get(back), 400, "Die Antwort des Anmeldedienstes konnte nicht geprüft werden")
    assert reason in caplog.text, caplog.text


def test_a_person_without_a_mapped_group_is_refused_and_gets_no_account(stack: Stack) -> None:
    with _browser() as client:
        back = sign_in_at_provider(client, _start(stack, client), "77c2-gast", stack.web)
        _refused(client.get(back), 403, "Ihr Dienstkonto ist für den Posteingang nicht freigegeben")
    assert _agent(stack, "g.gast") is None


def test_a_disabled_account_is_refused(stack: Stack) -> None:
    with _browser() as client:
        assert client.get(sign_in_at_provider(client, _start(stack, client), "f3a1-weber", stack.web)
                          ).status_code == 303
    with services_of(stack.app).sessions() as session:
        session.execute(select(Agent).where(Agent.username == "p.weber")).scalar_one().active = False
        session.commit()
    try:
        with _browser() as client:
            back = sign_in_at_provider(client, _start(stack, client), "f3a1-weber", stack.web)
            _refused(client.get(back), 403, "Ihr Zugang zum Posteingang ist gesperrt")
    finally:
        with services_of(stack.app).sessions() as session:
            session.execute(select(Agent).where(Agent.username == "p.weber")).scalar_one().active = True
            session.commit()
