"""The attack suite through the load balancer: nginx in front of both app hosts, limits and offers in Redis.

What holds for one web service must hold when consecutive requests land on different hosts: a citizen's
handoff budget is one budget for the deployment, a forged ``X-Forwarded-For`` buys no new one, nginx refuses
oversized bodies before a host sees them, typed button payloads are read as words unless the bot offered
them (on whichever host), and the security headers reach the browser through the proxy.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional

import httpx
import pytest

from tests.helpers.deployment import WEB, Deployment
from tests.helpers.replies import decisions, offered

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

HANDOFF_BUDGET = 5  # limit_handoffs_per_address (default): tickets per 10 minutes from one address
ASK = "Ich möchte bitte mit einem Menschen sprechen"


def _client(address: str, **headers: str) -> httpx.Client:
    """A citizen at ``address`` (a loopback address of its own: nginx sees it as the client)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), headers=headers, timeout=60)


def _say(deployment: Deployment, client: httpx.Client, sender: str, text: str) -> httpx.Response:
    return client.post(f"{deployment.url}/api/chat", json={"sender": sender, "message": text, "lang": "de"})


def _hand_off(deployment: Deployment, client: httpx.Client) -> Dict[str, Any]:
    """A citizen asks for a person and clicks the offered buttons; what happened at each step."""
    sender = uuid.uuid4().hex
    steps: List[Optional[str]] = []
    for text in (ASK, "/affirm", "/skip_email"):
        response = _say(deployment, client, sender, text)
        if response.status_code != 200:
            steps.append(f"http_{response.status_code}")
            break
        steps.append(decisions(response.json()).get("step"))
    return {"sender": sender, "steps": steps, "created": steps[-1:] == ["created"]}


def _tickets(deployment: Deployment, senders: List[str]) -> Dict[str, int]:
    """Tickets per conversation, read from the ticket database on the data host."""
    import sqlalchemy as sa

    engine = sa.create_engine(f"{deployment.pg_url}/auskunft")
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT conversation_id, count(*) FROM tickets "
                                              "WHERE conversation_id = ANY(:s) GROUP BY conversation_id"),
                                      {"s": senders}).fetchall()
    finally:
        engine.dispose()
    return {row[0]: int(row[1]) for row in rows}


def _upstreams(deployment: Deployment, lines: List[str]) -> set:
    return {line.rsplit(" ", 1)[1] for line in lines}


def test_thirty_handoffs_from_one_address_make_at_most_its_budget_of_tickets_across_both_hosts(
        deployment: Deployment) -> None:
    before = len(deployment.access_log())
    with _client("127.0.0.7") as flooder, ThreadPoolExecutor(5) as pool:
        attempts = list(pool.map(lambda _: _hand_off(deployment, flooder), range(30)))
    tickets = _tickets(deployment, [a["sender"] for a in attempts])
    confirmed = [a for a in attempts if a["created"]]
    assert sum(tickets.values()) == len(confirmed) == HANDOFF_BUDGET, (len(confirmed), tickets, attempts)
    assert all(count == 1 for count in tickets.values()), tickets
    chats = [line for line in deployment.access_log()[before:] if " /api/chat " in line]
    assert _upstreams(deployment, chats) == {f"{app.address}:{WEB}" for app in deployment.apps}
    refused = [a for a in attempts if not a["created"]]
    assert refused and all("created" not in a["steps"] for a in refused)


def test_a_forged_x_forwarded_for_buys_no_new_handoff_budget(deployment: Deployment) -> None:
    with _client("127.0.0.8") as citizen:
        first = [_hand_off(deployment, citizen) for _ in range(HANDOFF_BUDGET)]
    assert all(a["created"] for a in first), first
    forged = []
    for fake in ("203.0.113.77", "127.0.0.1", "198.51.100.1, 192.0.2.4"):  # nginx overwrites the header
        with _client("127.0.0.8", **{"X-Forwarded-For": fake}) as forger:
            forged.append(_hand_off(deployment, forger))
    assert not any(a["created"] for a in forged), forged
    with _client("127.0.0.9") as neighbour:  # another address has its own budget
        assert _hand_off(deployment, neighbour)["created"]
    tickets = _tickets(deployment, [a["sender"] for a in first + forged])
    assert sum(tickets.values()) == HANDOFF_BUDGET and not set(tickets) & {a["sender"] for a in forged}


def test_oversized_and_chunked_bodies_get_413_from_nginx_before_a_host_sees_them(deployment: Deployment) -> None:
    before = len(deployment.access_log())
    big = b'{"sender": "x", "message": "' + b"a" * 100_000 + b'"}'  # above nginx's 64k, below the service's 512k
    with httpx.Client(timeout=30) as client:
        sized = client.post(f"{deployment.url}/api/chat", content=big, headers={"Content-Type": "application/json"})
        chunked = client.post(f"{deployment.url}/api/chat", headers={"Content-Type": "application/json"},
                              content=iter([big[i:i + 8192] for i in range(0, len(big), 8192)]))
    assert sized.status_code == 413 and chunked.status_code == 413, (sized.status_code, chunked.status_code)
    assert chunked.request.headers.get("transfer-encoding") == "chunked"
    for response in (sized, chunked):
        assert response.headers["server"] == "nginx"  # nginx's own answer, without a version (server_tokens off)
    deadline = time.monotonic() + 10  # nginx logs a refused chunked request once it has discarded the body
    while True:
        refused = [line for line in deployment.access_log()[before:] if " /api/chat " in line and " 413 " in line]
        if len(refused) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(refused) == 2 and all(line.endswith(" -") for line in refused), refused  # no host was asked


def test_typed_button_payloads_not_offered_are_read_as_words_on_both_hosts(deployment: Deployment) -> None:
    sender = uuid.uuid4().hex
    with httpx.Client(timeout=60) as citizen:
        for typed in ("/ask_human", "/affirm", "/skip_email", '/choose_faq{"faq_id": "hundesteuer-anmelden"}'):
            reply = _say(deployment, citizen, sender, typed)
            assert reply.status_code == 200, reply.text
            assert decisions(reply.json()).get("step") != "created", (typed, reply.json())
        assert _tickets(deployment, [sender]) == {}
        # offered on one host, clicked on the other: the offer is in Redis, so the real buttons still work
        before = len(deployment.access_log())
        other = uuid.uuid4().hex
        offer = _say(deployment, citizen, other, ASK).json()
        assert "/affirm" in offered(offer), offer
        email = _say(deployment, citizen, other, "/affirm").json()
        assert decisions(email).get("step") == "email" and "/skip_email" in offered(email), email
        assert decisions(_say(deployment, citizen, other, "/skip_email").json()).get("step") == "created"
    assert _tickets(deployment, [other]) == {other: 1}
    chats = [line for line in deployment.access_log()[before:] if " /api/chat " in line]
    assert len(_upstreams(deployment, chats)) == 2, chats  # round robin: the three clicks met both hosts


def test_security_headers_reach_the_browser_through_the_proxy(deployment: Deployment) -> None:
    with httpx.Client(timeout=60) as browser:
        page = browser.get(f"{deployment.url}/")
        api = browser.post(f"{deployment.url}/api/chat", json={"sender": uuid.uuid4().hex, "message": "Hallo"})
    assert page.status_code == 200 and api.status_code == 200
    for response in (page, api):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["server"] == "nginx"  # no version, and not the app server's name
    assert "frame-ancestors 'self'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["permissions-policy"].startswith("camera=()")
