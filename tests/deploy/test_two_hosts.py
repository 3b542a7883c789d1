"""Two app hosts behind nginx, state in PostgreSQL and Redis on a data host (see conftest): what scale-out promises."""

from __future__ import annotations

import time
import uuid
from typing import Any, Dict, List, Tuple

import httpx
import pytest

from bot.conversations.redaction import redact_value
from bot.run.internal_auth import HEADER
from bot.run.rasa_workers import worker_for
from tests.deploy.conftest import ACTIONS, INTERNAL_TOKEN, RASA, WEB, Deployment

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

QUESTIONS = ["Ich habe meinen Personalausweis verloren", "Wann wird der Sperrmüll abgeholt?",
             "Wie melde ich meinen Wohnsitz um?", "Was kostet ein Reisepass?"]


def _sender(first_host: int = 0) -> str:
    """A new conversation id whose own Rasa process (AUSKUNFT_RASA_URL order) is on app host ``first_host``."""
    while True:
        sender = uuid.uuid4().hex
        if worker_for(sender, 2) == first_host:
            return sender


def _say(deployment: Deployment, sender: str, text: str) -> List[Dict[str, Any]]:
    response = httpx.post(f"{deployment.url}/api/chat", json={"sender": sender, "message": text, "lang": "de"},
                          timeout=60)
    assert response.status_code == 200, (response.status_code, response.text, deployment.tails())
    messages = response.json()
    assert messages and any(m.get("text") for m in messages), messages
    return messages  # type: ignore[no-any-return]


def _upstreams(deployment: Deployment, path: str, since: int = 0) -> set:
    """The upstreams nginx sent ``path`` to, in its log from line ``since`` on (the deployment is shared by modules:
    the attack suite leaves requests nginx refused itself, logged with upstream ``-``)."""
    return {line.rsplit(" ", 1)[1] for line in deployment.access_log()[since:] if f" {path} " in line}


def test_a_conversation_through_nginx_is_answered_by_both_hosts(deployment: Deployment) -> None:
    before = len(deployment.access_log())
    for question in QUESTIONS:
        _say(deployment, uuid.uuid4().hex, question)
    # round robin: both web services answered (the upstream column of nginx's log)
    assert _upstreams(deployment, "/api/chat", before) == {f"{app.address}:{WEB}" for app in deployment.apps}


def test_rasa_and_the_action_server_refuse_a_forged_call_without_the_internal_token(deployment: Deployment) -> None:
    app = deployment.apps[0]
    rasa = f"http://{app.address}:{RASA}/webhooks/rest/webhook"
    message = {"sender": uuid.uuid4().hex, "message": "Ich habe meinen Personalausweis verloren"}
    for headers in ({}, {HEADER: "forged"}):
        assert httpx.post(rasa, json=message, headers=headers, timeout=30).status_code == 401
    forged_action = {"next_action": "action_create_ticket", "sender_id": "x", "tracker": {}, "domain": {},
                     "version": "3.6.0"}
    assert httpx.post(f"http://{app.address}:{ACTIONS}/webhook", json=forged_action, timeout=30).status_code == 401
    assert httpx.get(f"http://{app.address}:{ACTIONS}/actions", timeout=30).status_code == 401
    # the secret itself is what counts: with it, Rasa answers
    assert httpx.post(rasa, json=message, headers={HEADER: INTERNAL_TOKEN}, timeout=60).status_code == 200


def _lookup(deployment: Deployment, client: httpx.Client) -> int:
    return client.post(f"{deployment.url}/fall", data={"number": "AK-0000-0000"}, timeout=30).status_code


def test_a_citizen_rate_limit_holds_across_both_hosts(deployment: Deployment) -> None:
    budget = 10  # limit_lookups_per_address: case-number lookups per 10 minutes from one address
    before = len(deployment.access_log())
    with httpx.Client() as citizen:
        answers = [_lookup(deployment, citizen) for _ in range(budget + 3)]
    assert answers == [404] * budget + [429] * 3, answers  # one budget for both hosts (Redis), not one each
    assert _upstreams(deployment, "/fall", before) == {f"{app.address}:{WEB}" for app in deployment.apps}
    # the limit is the citizen's (X-Forwarded-For from nginx), not nginx's own address shared by everyone
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as neighbour:
        assert _lookup(deployment, neighbour) == 404
    with httpx.Client(headers={"X-Forwarded-For": "203.0.113.9"}) as forger:  # nginx overwrites it
        assert _lookup(deployment, forger) == 429


def _tracker_events(deployment: Deployment, sender: str) -> List[Tuple[str, Dict[str, Any]]]:
    import json

    import sqlalchemy as sa

    engine = sa.create_engine(f"{deployment.pg_url}/rasa")
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                                      {"s": sender}).fetchall()
    finally:
        engine.dispose()
    return [(row[0], json.loads(row[1])) for row in rows]


def test_killing_one_hosts_rasa_mid_conversation_loses_and_duplicates_nothing(deployment: Deployment) -> None:
    sender = _sender(first_host=0)  # its own Rasa process is app1's
    replies: List[List[Dict[str, Any]]] = [_say(deployment, sender, text) for text in QUESTIONS[:2]]
    assert {type_name for type_name, _ in _tracker_events(deployment, sender)} >= {"user", "bot"}
    deployment.network.kill(deployment.processes["app1-rasa"])  # SIGKILL, as a crash
    killed = time.monotonic()
    replies.append(_say(deployment, sender, QUESTIONS[2]))  # both web services now go to app2's Rasa
    recovered = time.monotonic() - killed
    replies.append(_say(deployment, sender, QUESTIONS[3]))
    events = _tracker_events(deployment, sender)
    assert [data["text"] for kind, data in events if kind == "user"] == QUESTIONS  # none lost, none twice
    bot_texts = [data.get("text") for kind, data in events if kind == "bot"]
    assert len(bot_texts) == sum(len(reply) for reply in replies)  # every answer stored once
    # stored as the tracker store writes it: personal data (here the answers' phone numbers) redacted
    assert [redact_value(m.get("text")) for reply in replies for m in reply] == bot_texts
    print(f"\nafter app1's Rasa was killed the next turn was answered in {recovered:.2f} s; "
          f"{len(events)} tracker events, {len(bot_texts)} answers, all once")


def test_nginx_leaves_out_a_host_whose_web_service_is_down(deployment: Deployment) -> None:
    deployment.network.kill(deployment.processes["app2-web"])
    for question in QUESTIONS:  # connection refused on app2: nginx passes each request to app1 (proxy_next_upstream)
        _say(deployment, uuid.uuid4().hex, question)
    errors = (deployment.logs / "nginx" / "error.log").read_text()
    assert f"{deployment.apps[1].address}:{WEB}" in errors  # it did try app2 and noted the failure
