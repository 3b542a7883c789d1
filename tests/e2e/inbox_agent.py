"""A staff member working a ticket through the real inbox over HTTP (login, CSRF forms), as the browser does."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any, Dict

import httpx

from tests.conftest import ROOT
from tests.e2e.conftest import Running

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


PASSWORD = "ein-langes-testpasswort"


def create_account(services: Running, username: str, password: str, name: str, *flags: str) -> None:
    """Create an inbox account with the real CLI (``flags``: ``--manager``, ``--editor``, ``--department KEY``).

    With ``--agency KEY`` the account works for that agency only; without, for every agency (``--all-agencies``:
    the end-to-end deployment serves several).

    The password goes in through ``AUSKUNFT_AGENT_PASSWORD`` and is never printed.
    """
    if "--agency" not in flags:  # the deployment serves several agencies: an unscoped account is asked for
        flags = (*flags, "--all-agencies")
    args = [sys.executable, "-m", "bot.cli", "agent", "add", username, "--name", name, *flags]
    done = subprocess.run(args, cwd=ROOT, env={**services.env, "AUSKUNFT_AGENT_PASSWORD": password},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert password not in done.stdout + done.stderr


def add_agent(services: Running, username: str, *departments: str, editor: bool = False) -> None:
    """Create an agent (optionally an editor) for ``departments`` with the real CLI."""
    flags = ["--editor"] if editor else []
    for department in departments:
        flags += ["--department", department]
    create_account(services, username, PASSWORD, "Frau Weber", *flags)


def add_manager(services: Running, username: str, password: str) -> None:
    """Create an inbox account that sees every department, with the real CLI."""
    create_account(services, username, password, "Herr Skript", "--manager")


class InboxAgent:
    """Takes, answers, hands back and resolves tickets through ``/inbox`` (the same forms the page posts).

    Args:
        services: the running services.
        username: an existing inbox account.
        password: its password.
    """

    def __init__(self, services: Running, username: str, password: str) -> None:
        self.services = services
        self.client = httpx.Client(base_url=services.web, follow_redirects=False, timeout=30)
        form = self.client.get("/inbox/login")
        assert form.status_code == 200, f"inbox login page: {form.status_code}"
        done = self.client.post("/inbox/login", data={"username": username, "password": password,
                                                      "csrf_token": self._csrf(form.text), "next": "/inbox"})
        assert done.status_code == 303, f"inbox login failed: {done.status_code} {done.text[:300]}"

    @staticmethod
    def _csrf(html: str) -> str:
        match = _CSRF.search(html)
        assert match, "no csrf_token in the inbox page"
        return match.group(1)

    def _post(self, case: str, what: str, **form: str) -> str:
        page = self.client.get(f"/inbox/tickets/{case}")
        assert page.status_code == 200, f"inbox ticket page {case}: {page.status_code}"
        done = self.client.post(f"/inbox/tickets/{case}/{what}", data={"csrf_token": self._csrf(page.text), **form})
        assert done.status_code == 303, f"inbox {what} on {case}: {done.status_code} {done.text[:300]}"
        return done.headers.get("location", "")

    def ticket(self, case: str) -> Dict[str, Any]:
        """The ticket as the ticket API returns it."""
        response = httpx.get(f"{self.services.web}/api/tickets/{case}", timeout=30,
                             headers={"Authorization": f"Bearer {self.services.token}"})
        assert response.status_code == 200, f"ticket {case}: {response.status_code} {response.text[:300]}"
        return response.json()  # type: ignore[no-any-return]

    def take(self, case: str) -> None:
        """'Mir zuweisen': the ticket is in progress and the agent holds the conversation."""
        assert "meldung=uebernommen" in self._post(case, "assign")
        ticket = self.ticket(case)
        assert ticket["holds_conversation"] is True and ticket["status"] == "in_progress", ticket["status"]

    def reply(self, case: str, text: str) -> None:
        """Answer the citizen; the reply then reaches the widget's conversation."""
        assert "meldung=antwort" in self._post(case, "reply", text=text)
        assert self.ticket(case)["holds_conversation"] is True

    def release(self, case: str) -> None:
        """Give the conversation back to the bot (the ticket stays open)."""
        assert "meldung=zurueck" in self._post(case, "hand-back")
        ticket = self.ticket(case)
        assert ticket["holds_conversation"] is False and ticket["status"] != "resolved"

    def resolve(self, case: str) -> None:
        """Mark the ticket resolved (the bot answers again)."""
        assert "meldung=status" in self._post(case, "status", status="resolved")
        ticket = self.ticket(case)
        assert ticket["status"] == "resolved" and ticket["holds_conversation"] is False

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()
