"""Faults on the two-host deployment (see conftest): what breaks, what the citizen sees, and that nothing is lost.

The deployment here also runs ``auskunft serve worker`` on both app hosts (the web services with
``AUSKUNFT_BACKGROUND_JOBS=false``), a real SMTP server and a fake helpdesk that takes signed webhooks, both in the
root namespace. Its own namespaces, subnet and ports keep it apart from ``test_two_hosts.py`` and the benchmark.
Each test prints its figures (``-s``): ``.venv/bin/python -m pytest tests/deploy/test_faults.py -q -s``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest
import sqlalchemy as sa

from bot.retrieval.store import IndexStore
from tests.conftest import ROOT
from tests.deploy.conftest import check_tools
from tests.helpers.deployment import API_TOKEN, Deployment, build_home, deploy, run_postgres, run_redis
from tests.helpers.fake_helpdesk import FakeHelpdesk
from tests.helpers.mail_sink import MailSink, running_sink
from tests.helpers.netns import Network
from tests.helpers.ticket_api import ticket

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

PREFIX = os.environ.get("AUSKUNFT_FAULTS_NETNS_PREFIX", "akf5-")
SUBNET = os.environ.get("AUSKUNFT_FAULTS_NETNS_SUBNET", "10.231.55")
BASE = Path(os.environ.get("AUSKUNFT_FAULTS_TMP", "/tmp/auskunft-faults"))
NGINX_PORT = int(os.environ.get("AUSKUNFT_FAULTS_PORT", "18760"))
SMTP_PORT, HELPDESK_PORT = NGINX_PORT + 1, NGINX_PORT + 2  # on the bridge address in the root namespace
WEBHOOK_SECRET = "faults-webhook-0123456789abcdef"
LEASE_S = 8  # AUSKUNFT_LEASE_SECONDS: how long a dead worker's notification or delivery stays taken
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
QUESTIONS = ["Ich habe meinen Personalausweis verloren", "Wann wird der Sperrmüll abgeholt?",
             "Wie melde ich meinen Wohnsitz um?", "Was kostet ein Reisepass?"]
CASE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass
class Faulty:
    """The deployment with its SMTP server and helpdesk."""

    deployment: Deployment
    mails: MailSink
    helpdesk: FakeHelpdesk

    def db(self, name: str = "auskunft") -> sa.engine.Engine:
        """An engine on the data host's database ``name`` (dispose it after use)."""
        return sa.create_engine(f"{self.deployment.pg_url}/{name}", future=True)


@pytest.fixture(scope="module")
def faulty() -> Iterator[Faulty]:
    check_tools()
    with Network(prefix=PREFIX, subnet=SUBNET) as net:
        helpdesk = FakeHelpdesk(net.gateway, HELPDESK_PORT, WEBHOOK_SECRET)
        helpdesk.start()
        sinks = running_sink(net.gateway, SMTP_PORT)
        mails = next(sinks)
        env = {"AUSKUNFT_BACKGROUND_JOBS": "false", "AUSKUNFT_WORKER_SECONDS": "0.5",
               "AUSKUNFT_LEASE_SECONDS": str(LEASE_S), "AUSKUNFT_SMTP_HOST": net.gateway,
               "AUSKUNFT_SMTP_PORT": str(SMTP_PORT), "AUSKUNFT_HELPDESK": "webhook",
               "AUSKUNFT_WEBHOOK_URL": helpdesk.url, "AUSKUNFT_WEBHOOK_SECRET": WEBHOOK_SECRET,
               # the load below comes from one address and few conversations: only the global limit stays
               "AUSKUNFT_LIMIT_CHAT_PER_ADDRESS": "0", "AUSKUNFT_LIMIT_CHAT_PER_CONVERSATION": "0"}
        try:
            with deploy(BASE, net, NGINX_PORT, env, ("actions", "rasa", "web", "worker")) as deployment:
                yield Faulty(deployment, mails, helpdesk)
        finally:
            sinks.close()
            helpdesk.stop()


def _case() -> str:
    chars = [CASE_ALPHABET[b % len(CASE_ALPHABET)] for b in uuid.uuid4().bytes[:8]]
    return f"AK-{''.join(chars[:4])}-{''.join(chars[4:])}"


def _create_ticket(faulty: Faulty, case: str, email: Optional[str] = None) -> None:
    body = ticket(case_number=case, conversation_id=uuid.uuid4().hex, email=email)
    answer = httpx.post(f"{faulty.deployment.url}/api/tickets", json=body, headers=AUTH, timeout=30)
    assert answer.status_code == 201, (answer.status_code, answer.text)


def _wait(what: str, check: Any, timeout: float, deployment: Deployment) -> float:
    """Poll ``check()`` until true; returns the seconds taken."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, f"{what}: not within {timeout:.0f} s\n{deployment.tails()}"
        time.sleep(0.2)
    return time.monotonic() - started


def _outbox(faulty: Faulty, keys: List[str]) -> Dict[str, Tuple[int, bool]]:
    """Per case number: (attempts, delivered) of its helpdesk delivery."""
    engine = faulty.db()
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT key, attempts, delivered_at IS NOT NULL FROM outbox_items "
                                              "WHERE kind = 'helpdesk:webhook'")).fetchall()
    finally:
        engine.dispose()
    return {row[0]: (int(row[1]), bool(row[2])) for row in rows if row[0] in keys}


def test_tickets_wait_while_the_helpdesk_is_down_and_arrive_once_when_it_is_back(faulty: Faulty) -> None:
    faulty.helpdesk.stop()
    cases = [_case() for _ in range(5)]
    for case in cases:
        _create_ticket(faulty, case)
    _wait("every delivery tried and failed at least once",
          lambda: (lambda o: len(o) == 5 and all(a >= 1 and not d for a, d in o.values()))(_outbox(faulty, cases)),
          60, faulty.deployment)
    time.sleep(6)  # a few more rounds of both workers against the dead helpdesk
    attempts = sum(a for a, _ in _outbox(faulty, cases).values())
    assert not any(case in faulty.helpdesk.posts for case in cases)
    faulty.helpdesk.start()
    back = time.monotonic()
    recovered = _wait("all five tickets in the helpdesk", lambda: all(c in faulty.helpdesk.tickets for c in cases),
                      120, faulty.deployment)
    _wait("all five deliveries recorded", lambda: all(d for _, d in _outbox(faulty, cases).values()), 30,
          faulty.deployment)
    time.sleep(3)  # nothing further arrives
    assert {case: faulty.helpdesk.posts[case] for case in cases} == {case: 1 for case in cases}  # exactly once
    assert faulty.helpdesk.refused == 0
    print(f"\nhelpdesk down: 5 tickets queued, {attempts} failed attempts by two workers; after it came back all 5 "
          f"arrived in {recovered:.1f} s (back-off), each POSTed once ({time.monotonic() - back:.1f} s to check)")


def _mails_for(mails: MailSink, case: str) -> int:
    return sum(1 for message in mails.parsed() if case in str(message["Subject"]))


def test_a_worker_killed_while_sending_a_notification_leaves_it_to_the_other_which_sends_it_once(
        faulty: Faulty) -> None:
    deployment, mails = faulty.deployment, faulty.mails
    case = _case()
    _create_ticket(faulty, case, email="buergerin@example.org")
    mails.hold.set()  # the mail server answers RCPT only when told: the sending worker holds the notification
    mails.held_peers.clear()
    reply = httpx.post(f"{deployment.url}/api/tickets/{case}/replies", headers=AUTH, timeout=30,
                       json={"author": "Frau A.", "text": "Ihre Urkunde liegt bereit."})
    assert reply.status_code == 201, reply.text
    _wait("a worker connected to the mail server", lambda: mails.held_peers, 30, deployment)
    time.sleep(2)  # both workers have had rounds meanwhile: only the holder of the turn talks to the mail server
    assert len(mails.held_peers) == 1, mails.held_peers
    holder = next(app for app in deployment.apps if app.address == mails.held_peers[0])
    deployment.network.kill(deployment.processes[f"{holder.name}-worker"])  # SIGKILL mid-transaction
    mails.hold.clear()
    sent = _wait("the notification sent by the other worker", lambda: _mails_for(mails, case) >= 1, 60, deployment)
    time.sleep(3 * 0.5 + 2)  # more rounds: nothing is sent again
    assert _mails_for(mails, case) == 1
    engine = faulty.db()
    try:
        with engine.connect() as connection:
            notified = connection.execute(sa.text(
                "SELECT count(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
                "WHERE t.case_number = :c AND e.kind = 'notified'"), {"c": case}).scalar_one()
    finally:
        engine.dispose()
    assert notified == 1
    deployment.start(holder, "worker")  # back for the next tests
    print(f"\n{holder.name}'s worker killed while holding the notification: the other worker sent it "
          f"{sent:.1f} s later (lease {LEASE_S} s); "
          f"1 e-mail, 1 'notified' event")


def _chat(url: str, sender: str, text: str, timeout: float = 60) -> Tuple[Any, float, str]:
    """(status or the exception's name, seconds, body) of one chat message."""
    started = time.monotonic()
    try:
        answer = httpx.post(f"{url}/api/chat", json={"sender": sender, "message": text, "lang": "de"},
                            timeout=timeout)
        return answer.status_code, time.monotonic() - started, answer.text
    except httpx.HTTPError as err:
        return type(err).__name__, time.monotonic() - started, ""


def test_without_redis_chat_and_lookups_are_refused_clearly_and_come_back_with_it(faulty: Faulty) -> None:
    deployment = faulty.deployment
    sender = uuid.uuid4().hex
    assert _chat(deployment.url, sender, QUESTIONS[0])[0] == 200
    deployment.network.kill(deployment.processes["redis"])
    down = time.monotonic()
    answers = [_chat(deployment.url, uuid.uuid4().hex, question) for question in QUESTIONS]
    for status, seconds, body in answers:  # fail closed, fast, with a message: never a 500 or a hang
        assert status == 503 and seconds < 10 and "limit store unreachable" in body, (status, seconds, body)
    lookup = httpx.post(f"{deployment.url}/fall", data={"number": "AK-0000-0000"}, headers={"Accept": "text/html"},
                        timeout=30)
    assert lookup.status_code == 503 and "Vorübergehend nicht erreichbar" in lookup.text
    assert lookup.headers["Retry-After"] == "5"
    health = httpx.get(f"{deployment.url}/healthz", timeout=30)
    deployment.processes["redis"] = run_redis(deployment.network, deployment.data, deployment.base)
    restarted = time.monotonic()
    first_ok: List[float] = []

    def answered() -> bool:
        status, _, _ = _chat(deployment.url, uuid.uuid4().hex, QUESTIONS[1])
        if status == 200:
            first_ok.append(time.monotonic())
        return status == 200

    _wait("a chat answer after Redis is back", answered, 60, deployment)
    print(f"\nRedis down {restarted - down:.1f} s: {len(answers)} chat messages answered 503 in at most "
          f"{max(s for _, s, _ in answers):.2f} s, case lookup 503 (page, Retry-After 5), /healthz {health.status_code};"
          f" chat answered again {first_ok[0] - restarted:.1f} s after redis-server started")


def test_restarting_postgresql_under_load_loses_and_duplicates_no_message(faulty: Faulty) -> None:
    deployment = faulty.deployment
    senders = [uuid.uuid4().hex for _ in range(4)]
    results: List[Tuple[str, str, Any, float, float, str]] = []  # sender, text, status, sent at, seconds, body
    stop = threading.Event()

    def converse(sender: str) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            text = f"{QUESTIONS[number % len(QUESTIONS)]} ({sender[:6]}-{number})"
            sent = time.monotonic()
            status, seconds, body = _chat(deployment.url, sender, text)
            results.append((sender, text, status, sent, seconds, body))
            if status != 200:
                time.sleep(0.5)  # as the widget does before the citizen tries again

    threads = [threading.Thread(target=converse, args=(sender,)) for sender in senders]
    for thread in threads:
        thread.start()
    time.sleep(8)
    deployment.network.kill(deployment.processes["postgres"], signal.SIGINT, grace=30)  # fast shutdown
    stopped = time.monotonic()
    time.sleep(5)
    deployment.processes["postgres"] = run_postgres(deployment.network, deployment.data, deployment.base)
    started = time.monotonic()
    time.sleep(20)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a chat request hung"
    statuses = Counter(str(status) for _, _, status, _, _, _ in results)
    for _, _, status, _, seconds, body in results:
        assert status == 200 or (isinstance(status, int) and status >= 500 and "detail" in body), (status, body)
        assert seconds < 60
    ok_after = [sent + seconds for _, _, status, sent, seconds, _ in results if status == 200 and sent > started]
    assert ok_after, f"no answer after PostgreSQL came back: {statuses}\n{deployment.tails()}"
    failed_at = [sent for _, _, status, sent, _, _ in results if status != 200]
    engine = faulty.db("rasa")
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT sender_id, data FROM events WHERE type_name = 'user' AND "
                                              "sender_id IN :s").bindparams(sa.bindparam("s", expanding=True)),
                                      {"s": senders}).fetchall()
    finally:
        engine.dispose()
    stored = Counter((row[0], json.loads(row[1])["text"]) for row in rows)
    answered = [(sender, text) for sender, text, status, _, _, _ in results if status == 200]
    wrong = [(text, stored[(sender, text)], round(sent - stopped, 1), body[:200])
             for sender, text, status, sent, _, body in results if status == 200 and stored[(sender, text)] != 1]
    assert wrong == [], f"answered but stored other than once (text, times stored, sent after stop, body): {wrong}"
    assert [key for key, count in stored.items() if count > 1] == []  # and nothing twice
    print(f"\nPostgreSQL restarted under load (4 conversations): down {started - stopped:.1f} s; "
          f"{len(results)} messages: {dict(statuses)}; longest request {max(r[4] for r in results):.1f} s; "
          f"failed requests sent from stop{min(failed_at, default=stopped) - stopped:+.1f} s to "
          f"back{max(failed_at, default=started) - started:+.1f} s; first answer "
          f"{min(ok_after) - started:.1f} s after it was back; {len(answered)} answered messages stored once each, "
          f"{sum(stored.values()) - len(answered)} unanswered ones stored (none twice)")


def _live(index: Path) -> Dict[str, str]:
    """The live version of every agency's index under ``index`` (its CURRENT files)."""
    return {str(path.parent.relative_to(index)): path.read_text().strip() for path in index.rglob("CURRENT")}


def test_a_full_disk_keeps_the_old_index_serving_and_the_next_change_after_freeing_space_publishes(
        tmp_path: Path) -> None:
    check_tools()
    shared = BASE / "shared-home"
    build_home(shared)  # the models and the embedding cache (cached: quick after the first run)
    home, kb = tmp_path / "home", tmp_path / "kb"
    home.mkdir()
    (home / "models").symlink_to(shared / "models")
    shutil.copytree(shared / "embedding-cache", home / "embedding-cache")
    shutil.copytree(ROOT / "kb", kb)
    index = home / "index"
    index.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(index)], check=True, timeout=30)
    log = tmp_path / "watch.log"
    env = {**os.environ, "AUSKUNFT_HOME": str(home), "AUSKUNFT_KB_DIR": str(kb)}
    watcher = subprocess.Popen([sys.executable, "-m", "bot.cli", "kb", "watch", "--interval", "0.5"], env=env,
                               cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
    entry = kb / "abfall" / "abfallkalender-abholtermine.md"
    try:
        def logged() -> str:
            return log.read_text(errors="replace")

        def check(what: str, condition: Any, timeout: float) -> float:
            started = time.monotonic()
            while not condition():
                assert watcher.poll() is None, f"the watcher exited with {watcher.returncode}:\n{logged()[-3000:]}"
                assert time.monotonic() - started < timeout, f"{what}: not within {timeout:.0f} s\n{logged()[-3000:]}"
                time.sleep(0.3)
            return time.monotonic() - started

        check("the first index published", lambda: _live(index), 300)
        first = _live(index)
        with (index / "filler").open("wb") as filler:  # the disk is full now
            try:
                while True:
                    filler.write(b"\0" * (1 << 20))
                    filler.flush()
            except OSError:
                pass
        entry.write_text(entry.read_text() + "\nNeu: Termine auch per E-Mail [Platzhalter].\n")
        failed = check("the failed publish logged", lambda: "index NOT published" in logged(), 120)
        time.sleep(2)
        assert watcher.poll() is None  # still watching
        assert _live(index) == first  # the old version stays live ...
        for agency, version in first.items():  # ... complete and loadable, and no half-written version is left
            store = IndexStore(index / agency if agency != "." else index)
            assert store.current().version == version
            assert not [p.name for p in (store.root / "versions").iterdir() if p.name.startswith(".")]
        message = next(line for line in logged().splitlines() if "index NOT published" in line)
        assert "No space left on device" in message and str(index) in message, message
        (index / "filler").unlink()  # space freed
        entry.write_text(entry.read_text() + "\nNeu: auch in der Abfall-App [Platzhalter].\n")
        changed = time.monotonic()
        published = check("the next change published", lambda: _live(index) != first, 120)
        assert "published" in logged().split("index NOT published")[-1]
        print(f"\ndisk full in the kb watcher's index directory: the failure was logged {failed:.1f} s after the "
              f"change ({message.split('kb-watch ')[-1][:90]}...), the old index {first} kept serving; after space was "
              f"freed the next change was live {published:.1f} s later ({time.monotonic() - changed:.1f} s)")
    finally:
        Network.kill(watcher, signal.SIGTERM)
        subprocess.run(["umount", str(index)], check=False, timeout=30)
