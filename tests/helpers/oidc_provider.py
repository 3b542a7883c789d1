"""A real OpenID Connect provider for tests: ``tests/oidc/provider.mjs`` (the certified ``oidc-provider`` package
on Node.js, installed by ``make oidc-deps``), and a browser's walk through its login form with an HTTP client."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from html import unescape
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import urljoin

import httpx

from tests.helpers.servers import free_port

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc"
FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


class OidcProvider:
    """``node tests/oidc/provider.mjs`` on a free loopback port; a context manager that waits until it listens.

    Args:
        clients: ``{client_id, client_secret, redirect_uris}`` of each registered client.
        users: account id → claims (``name``, ``preferred_username``, ``groups``, ...); any password logs in.
    """

    def __init__(self, clients: List[Dict[str, Any]], users: Dict[str, Dict[str, Any]]) -> None:
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError("tests/oidc/node_modules is missing: run 'make oidc-deps' (npm ci in tests/oidc)")
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "OIDC_PORT": str(self.port), "OIDC_CLIENTS": json.dumps(clients),
               "OIDC_USERS": json.dumps(users)}
        self.process = subprocess.Popen(["node", "provider.mjs"], cwd=PROVIDER_DIR, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def __enter__(self) -> "OidcProvider":
        deadline = time.monotonic() + 30
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith("listening "):
                return self
            if not line and self.process.poll() is not None:
                break
        self.process.kill()
        raise RuntimeError(f"the OpenID provider did not start (exit {self.process.poll()})")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def next_id_token_claims(self, **claims: Any) -> None:
        """Make the next ID token from the token endpoint carry ``claims`` (re-signed with the provider's key)."""
        httpx.post(f"{self.issuer}/_test/next-id-token", json=claims, timeout=10).raise_for_status()


def sign_in_at_provider(client: httpx.Client, authorize_url: str, login: str, back_to: str) -> str:
    """Follow ``authorize_url`` like a browser, fill in the provider's login form as ``login`` and return the URL
    the provider sends the browser back to (starting with ``back_to``), without calling it."""
    url: Optional[str] = authorize_url
    for _ in range(10):
        assert url is not None
        if url.startswith(back_to):
            return url
        answer = client.get(url)
        if answer.is_redirect:
            url = urljoin(url, answer.headers["location"])
            continue
        assert answer.status_code == 200, (answer.status_code, answer.text[:300])
        action = FORM_ACTION.search(answer.text)
        assert action, answer.text[:300]
        posted = client.post(urljoin(url, unescape(action.group(1))),
                             data={"prompt": "login", "login": login, "password": "egal"})
        assert posted.is_redirect, (posted.status_code, posted.text[:300])
        url = urljoin(url, posted.headers["location"])
    raise AssertionError("the provider did not send the browser back")
