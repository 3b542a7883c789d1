"""Attacks on the ticket API's tokens against the real services: tokens made with the real ``auskunft token`` CLI,
a create-only token reading tickets, revoked and rotated tokens, a token for one agency reading another's ticket,
the action server's own token (read from its process environment) and which secrets each process holds."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Dict, List

import httpx
import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import Running
from tests.helpers.ticket_api import ticket

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def token_cli(services: Running, *args: str) -> str:
    """Run ``auskunft token ...`` against the services' database; its stdout (the token, for create/rotate)."""
    done = subprocess.run([sys.executable, "-m", "bot.cli", "token", *args], cwd=ROOT, env=services.env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def bearer(token: str) -> Dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_ticket(services: Running, agency: str) -> str:
    """A ticket of ``agency`` created with the legacy token; its case number."""
    number = f"AK-{uuid.uuid4().hex[:4].upper()}-{uuid.uuid4().hex[:4].upper()}"
    body = ticket(case_number=number, conversation_id=f"token-{number}", agency=agency)
    created = httpx.post(f"{services.web}/api/tickets", json=body, headers=bearer(services.token), timeout=30)
    assert created.status_code == 201, created.text
    return number


def processes(services: Running, marker: str) -> List[Path]:
    """The ``/proc`` folders of the services' processes whose command line contains ``marker``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if marker in cmdline and str(services.home).encode() in environ:
            found.append(proc)
    return found


def environment(proc: Path) -> Dict[str, str]:
    pairs = (item.split(b"=", 1) for item in (proc / "environ").read_bytes().split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def test_a_create_only_token_cannot_read_tickets(services: Running) -> None:
    number = new_ticket(services, "adorf")
    creator = bearer(token_cli(services, "create", "angriff-nur-anlegen", "--scope", "tickets:create"))
    for method, path in (("GET", "/api/tickets"), ("GET", f"/api/tickets/{number}"), ("GET", "/api/feedback"),
                         ("GET", "/metrics"), ("PATCH", f"/api/tickets/{number}")):
        response = httpx.request(method, f"{services.web}{path}", headers=creator, json={"status": "resolved"},
                                 timeout=30)
        assert response.status_code == 403, (path, response.text)
        assert number not in response.text
    body = ticket(case_number="AK-ANGR-IFF1", conversation_id="angriff-anlegen", agency="adorf")
    assert httpx.post(f"{services.web}/api/tickets", json=body, headers=creator, timeout=30).status_code == 201


def test_a_revoked_token_gets_401(services: Running) -> None:
    token = token_cli(services, "create", "angriff-widerruf", "--scope", "tickets:read")
    assert httpx.get(f"{services.web}/api/tickets", headers=bearer(token), timeout=30).status_code == 200
    token_cli(services, "revoke", "angriff-widerruf")
    refused = httpx.get(f"{services.web}/api/tickets", headers=bearer(token), timeout=30)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    for forged in (token[:-1], token + "A", token.replace("ak_", "AK_"), "ak_" + "A" * 43, token[3:]):
        assert httpx.get(f"{services.web}/api/tickets", headers=bearer(forged), timeout=30).status_code == 401


def test_a_rotated_token_works_within_the_grace_period_only(services: Running) -> None:
    old = token_cli(services, "create", "angriff-rotation", "--scope", "tickets:read")
    new = token_cli(services, "rotate", "angriff-rotation", "--grace", "0.002")  # 7.2 seconds
    assert new.startswith("ak_") and new != old
    assert httpx.get(f"{services.web}/api/tickets", headers=bearer(old), timeout=30).status_code == 200
    time.sleep(8)
    assert httpx.get(f"{services.web}/api/tickets", headers=bearer(old), timeout=30).status_code == 401
    assert httpx.get(f"{services.web}/api/tickets", headers=bearer(new), timeout=30).status_code == 200


def test_a_token_for_one_agency_cannot_read_anothers_ticket_and_reads_are_recorded(
        services: Running, manager: httpx.Client) -> None:
    ours, theirs = new_ticket(services, "adorf"), new_ticket(services, "bdorf")
    adorf = bearer(token_cli(services, "create", "angriff-adorf", "--scope", "tickets:read", "--scope",
                             "tickets:write", "--agency", "adorf"))
    listed = [t["case_number"] for t in httpx.get(f"{services.web}/api/tickets", headers=adorf, timeout=30).json()]
    assert ours in listed and theirs not in listed
    for method, path, body in (("GET", f"/api/tickets/{theirs}", None),
                               ("PATCH", f"/api/tickets/{theirs}", {"status": "resolved"}),
                               ("POST", f"/api/tickets/{theirs}/replies", {"author": "x", "text": "y"})):
        refused = httpx.request(method, f"{services.web}{path}", headers=adorf, json=body, timeout=30)
        assert refused.status_code == 404, (method, path, refused.text)
    read = httpx.get(f"{services.web}/api/tickets/{ours}", headers=adorf, timeout=30)
    assert read.status_code == 200 and read.json()["case_number"] == ours
    page = manager.get(f"{services.web}/inbox/tickets/{ours}")  # the inbox shows who read the ticket
    assert page.status_code == 200 and "token:angriff-adorf" in page.text
    other = manager.get(f"{services.web}/inbox/tickets/{theirs}")
    assert other.status_code == 200 and "token:angriff-adorf" not in other.text  # refused reads are no reads


def test_the_action_server_holds_only_its_create_only_token(services: Running) -> None:
    actions = processes(services, "bot.run.action_server")
    rasas = processes(services, "bot.run.rasa_launcher")
    assert actions and rasas, "action server or Rasa process not found"
    for proc in actions + rasas:
        env = environment(proc)
        assert "AUSKUNFT_API_TOKEN" not in env, proc
        assert services.token not in "\n".join(env.values()), proc  # the legacy token under no name
    own = environment(actions[0])["AUSKUNFT_ACTIONS_API_TOKEN"]
    assert all("AUSKUNFT_ACTIONS_API_TOKEN" not in environment(p) for p in rasas)
    assert all("AUSKUNFT_VECTOR_KEY" not in environment(p) for p in actions)
    number = new_ticket(services, "adorf")
    for path in ("/api/tickets", f"/api/tickets/{number}", "/api/feedback", "/metrics"):
        assert httpx.get(f"{services.web}{path}", headers=bearer(own), timeout=30).status_code == 403, path
    body = ticket(case_number="AK-ANGR-IFF2", conversation_id="angriff-aktionen", agency="adorf")
    assert httpx.post(f"{services.web}/api/tickets", json=body, headers=bearer(own), timeout=30).status_code == 201
