"""The serving topology as it runs: one Rasa per worker port, no torch in any service, vectors from the web."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Dict, List

import httpx

from tests.e2e.conftest import RASA_WORKERS, Running


def children(pid: int) -> List[int]:
    """The direct children of a process (``auskunft run`` starts every service as one)."""
    found: List[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def service_processes(services: Running) -> Dict[int, str]:
    return {pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            for pid in children(services.process.pid)}


def test_every_service_runs_without_torch_and_there_is_one_rasa_per_worker(services: Running) -> None:
    processes = service_processes(services)
    rasa = [pid for pid, command in processes.items() if "bot.run.rasa_launcher" in command]
    assert len(rasa) == RASA_WORKERS
    assert any("uvicorn" in command for command in processes.values())
    assert any("bot.run.action_server" in command for command in processes.values())  # rasa_sdk with the token check
    services.say(f"serving-{uuid.uuid4().hex[:12]}", "Wie beantrage ich einen Personalausweis?")  # Rasa embeds
    for pid, command in processes.items():
        libraries = Path(f"/proc/{pid}/maps").read_text()
        assert "libtorch" not in libraries, f"torch is loaded in {command}"
        assert "/jax" not in libraries, f"jax is loaded in {command}"


def stored_parse(home: Path, sender: str) -> List[dict]:
    with sqlite3.connect(home / "trackers.sqlite3") as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
                          (sender,)).fetchall()
    return [json.loads(data) for (data,) in rows]


def test_the_web_service_embeds_and_rasa_ranks_with_its_vector_which_is_not_stored(services: Running) -> None:
    web_sender, rasa_sender = f"web{uuid.uuid4().hex}", f"rasa{uuid.uuid4().hex}"
    question = "Ich habe meinen Personalausweis verloren, was muss ich tun?"
    reply = httpx.post(f"{services.web}/api/chat", json={"sender": web_sender, "message": question, "lang": "de"},
                       timeout=30)
    assert reply.status_code == 200, reply.text
    direct = services.say(rasa_sender, question, metadata={"lang": "de"})
    assert [m.get("text") for m in reply.json()] == [m.get("text") for m in direct]  # the same answer either way
    via_web, = stored_parse(services.home, web_sender)
    via_rasa, = stored_parse(services.home, rasa_sender)
    assert via_web["parse_data"]["faq"]["embedded_by"] == "web"
    assert via_rasa["parse_data"]["faq"]["embedded_by"] == "rasa"
    assert via_web["parse_data"]["faq"]["candidates"][0]["faq_id"] == via_rasa["parse_data"]["faq"]["candidates"][0][
        "faq_id"]
    assert "query_vector" not in json.dumps(via_web)  # 2 KB per message kept out of the tracker store
    forged = {"lang": "de", "query_vector": {"vector": "AAAA", "model": "x", "sig": "0" * 64}}
    services.say(f"forged{uuid.uuid4().hex}", question, metadata=forged)  # not signed: Rasa embeds itself


def listening_addresses(port: int) -> List[str]:
    """The local addresses a TCP port listens on, from /proc/net/tcp and tcp6 (``0.0.0.0`` = every interface)."""
    found: List[str] = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                words = [raw[i:i + 4][::-1] for i in range(0, width // 2, 4)]  # little-endian 32-bit words
                found.append(".".join(str(b) for b in words[0]) if width == 8 else b"".join(words).hex())
    return found


def test_rasa_and_the_action_server_listen_on_loopback_only(services: Running) -> None:
    """Neither has access control of its own: on every interface they would bypass the web service."""
    action_port = int(services.env["AUSKUNFT_ACTION_PORT"])
    rasa_ports = [int(services.env["AUSKUNFT_RASA_PORT"]) + n for n in range(RASA_WORKERS)]
    for port in [action_port, *rasa_ports]:
        addresses = listening_addresses(port)
        assert addresses and set(addresses) == {"127.0.0.1"}, f"port {port} listens on {addresses}"


def test_rasa_refuses_a_large_body_before_reading_it(services: Running) -> None:
    """Sanic's default would read 100 MB into memory before the channel's own size check."""
    body = json.dumps({"sender": "big", "message": "x" * (2 * 1024 * 1024)})
    response = httpx.post(f"{services.rasa}/webhooks/rest/webhook", content=body,
                          headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 413
