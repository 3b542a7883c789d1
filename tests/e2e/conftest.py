"""Start the real services ('auskunft run') in a temporary home, on free ports, for end-to-end tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List

import httpx
import pytest
from aiosmtpd.controller import Controller

from bot.config.settings import Settings
from bot.embedding.provision import provision
from tests.conftest import ROOT
from tests.e2e.browser import browser, new_page  # noqa: F401
from tests.helpers.servers import free_port

READY_TIMEOUT = 600
RASA_WORKERS = 2


@dataclass
class Running:
    """The running services and how to reach them."""

    process: "subprocess.Popen[str]"
    home: Path
    kb: Path
    rasa: str
    web: str
    token: str
    output: List[str] = field(default_factory=list)
    startup_seconds: float = 0.0
    mails: List[bytes] = field(default_factory=list)  # what the real SMTP server beside the services received
    env: Dict[str, str] = field(default_factory=dict)  # the environment the services run with

    def say(self, sender: str, text: str, **extra: Any) -> List[Dict[str, Any]]:
        """Send one message over Rasa's REST channel; returns the bot's messages."""
        response = httpx.post(f"{self.rasa}/webhooks/rest/webhook", json={"sender": sender, "message": text, **extra},
                              timeout=30)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def write_agencies(base: Path) -> Path:
    """Two towns beside the default agency, as in examples/agencies (their layers over the copied kb)."""
    for town in ("adorf", "bdorf"):
        shutil.copytree(ROOT / "examples" / "agencies" / town, base / town)
    config = (ROOT / "examples" / "agencies" / "agencies.yml").read_text(encoding="utf-8")
    path = base / "agencies.yml"
    path.write_text(config.replace("../../kb", "kb"), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    base = tmp_path_factory.mktemp("e2e")
    kb = base / "kb"
    shutil.copytree(ROOT / "kb", kb)
    agencies = write_agencies(base)
    model = provision(Settings().default_model_dir)  # the shipped default, shared with the dev setup
    ports = {name: free_port() for name in ("ACTION", "WEB", "SMTP")}
    ports["RASA"] = free_port(span=RASA_WORKERS)
    mails: List[bytes] = []
    smtp = Controller(_MailSink(mails), hostname="127.0.0.1", port=ports["SMTP"])
    smtp.start()
    env = {
        **os.environ,
        "AUSKUNFT_HOME": str(base / "home"),
        "AUSKUNFT_KB_DIR": str(kb),
        "AUSKUNFT_AGENCIES_FILE": str(agencies),
        "AUSKUNFT_EMBEDDING_MODEL": str(model),
        "AUSKUNFT_RASA_PORT": str(ports["RASA"]),
        "AUSKUNFT_RASA_WORKERS": str(RASA_WORKERS),  # conversations are spread over two Rasa processes
        "AUSKUNFT_ACTION_PORT": str(ports["ACTION"]),
        "AUSKUNFT_WEB_PORT": str(ports["WEB"]),
        "AUSKUNFT_API_TOKEN": "e2e-token-0123456789-abcdefghijklmn",
        "AUSKUNFT_SMTP_HOST": "127.0.0.1",
        "AUSKUNFT_SMTP_PORT": str(ports["SMTP"]),
        "AUSKUNFT_OFFICE_HOURS": "Mo-So 00:00-23:59",
        "AUSKUNFT_WORKER_SECONDS": "0.5",
        "AUSKUNFT_RATE_LIMITS": "false",  # every conversation comes from 127.0.0.1 (limits: test_citizen_limits)
    }
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    running = Running(process, base / "home", kb, f"http://127.0.0.1:{ports['RASA']}",
                      f"http://127.0.0.1:{ports['WEB']}", env["AUSKUNFT_API_TOKEN"], mails=mails)
    running.env = env
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            running.output.append(line)
            if line.startswith("Auskunft is ready"):
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready.wait(0.5) and process.poll() is None and time.monotonic() < deadline:
        pass
    if not ready.is_set() or process.poll() is not None:
        running.stop()
        pytest.fail("services did not start:\n" + "".join(running.output[-40:]))
    running.startup_seconds = time.monotonic() - started
    yield running
    # Shutting down is part of what is tested: every service stops tidily and the ports are free again.
    assert running.stop() == 0, "services did not stop tidily:\n" + "".join(running.output[-40:])
    assert "all services stopped" in "".join(running.output)
    with pytest.raises(httpx.HTTPError):
        httpx.get(running.rasa, timeout=2)
    smtp.stop()


class _MailSink:
    """aiosmtpd handler keeping every message."""

    def __init__(self, store: List[bytes]) -> None:
        self.store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's API
        self.store.append(envelope.content)
        return "250 OK"
