"""Which address a request counts under, the citizen budgets on an in-process store, and a refused ticket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from bot.config.settings import Settings
from bot.limits.addresses import client_address, group, parse_networks, pseudonym
from bot.limits.memory import MemoryLimiter
from bot.limits.policy import Budgets, CitizenLimits
from bot.tickets.client import HandoffRefused, TicketClient, local_outbox

PROXY = parse_networks("10.0.0.0/8, fd00::/8")


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("address, grouped", [
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("::ffff:198.51.100.7", "198.51.100.7"),  # an IPv4 client on a dual-stack socket is that IPv4 address
    ("198.51.100.7", "198.51.100.7"),
    ("testclient", "testclient"),
])
def test_ipv6_counts_per_64_and_ipv4_per_address(address: str, grouped: str) -> None:
    assert group(address) == grouped


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    assert client_address("198.51.100.7", "203.0.113.1", PROXY) == "198.51.100.7"  # not a proxy: forged header
    assert client_address("10.1.2.3", "203.0.113.1", PROXY) == "203.0.113.1"
    # the client wrote its own X-Forwarded-For; the proxies appended what they saw: the last untrusted hop counts
    assert client_address("10.1.2.3", "1.1.1.1, 203.0.113.1, 10.9.9.9", PROXY) == "203.0.113.1"
    assert client_address("10.1.2.3", "garbage, 10.9.9.9", PROXY) == "10.9.9.9"  # stop at what we cannot read
    assert client_address("10.1.2.3", None, PROXY) == "10.1.2.3"
    assert client_address(None, "203.0.113.1", PROXY) == "unknown"


def test_trusted_proxies_must_be_networks(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not an IP address or network"):
        Settings(home=tmp_path, trusted_proxies="10.0.0.0/8, proxy.local")


def test_the_store_never_sees_the_address() -> None:
    key = pseudonym("198.51.100.7", "secret-a")
    assert "198" not in key and key != pseudonym("198.51.100.7", "secret-b")
    assert key == pseudonym("198.51.100.7", "secret-a")  # every process of a deployment agrees


def limits(**budgets: Any) -> CitizenLimits:
    return CitizenLimits(MemoryLimiter(clock=Clock()), Budgets(**budgets), "secret", PROXY)


def test_chat_is_limited_per_address_per_conversation_and_in_total() -> None:
    chat = limits(chat_per_address=3, chat_per_conversation=2, chat_global=5)
    a, b, c = (chat.address_key(ip, None) for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3"))
    assert [chat.chat(a, "conv-a1").allowed for _ in range(3)] == [True, True, False]  # per conversation
    assert chat.chat(a, "conv-a2").allowed and not chat.chat(a, "conv-a3").allowed  # per address
    assert chat.chat(b, "conv-b").allowed and chat.chat(b, "conv-b").allowed
    refused = chat.chat(c, "conv-c")  # five counted in total
    assert not refused.allowed and refused.retry_after > 0


def test_the_handoff_budget_follows_the_conversations_address() -> None:
    budget = limits(handoffs_per_address=2, handoffs_global=4)
    a, b = budget.address_key("2001:db8::1", None), budget.address_key("2001:db8:0:0:ffff::2", None)  # one /64
    for n in range(3):
        budget.chat(a if n % 2 else b, f"conv-{n}")
    assert [budget.handoff(f"conv-{n}").allowed for n in range(3)] == [True, True, False]
    other = budget.address_key("198.51.100.9", None)
    budget.chat(other, "conv-x")
    assert budget.handoff("conv-x").allowed
    assert budget.handoff("never-seen").allowed  # no address known: counted in the global budget only ...
    assert not budget.handoff("never-seen-2").allowed  # ... which is spent now (4)


def test_limits_off_count_nothing(tmp_path: Path) -> None:
    off = Budgets.from_settings(Settings(home=tmp_path, rate_limits=False))
    everything = CitizenLimits(MemoryLimiter(), off, "secret")
    assert all(everything.chat("a", "c").allowed and everything.handoff("c").allowed for _ in range(500))
    assert everything.limiter.recall("origin:c") is None  # not even the address is noted


def test_a_refused_ticket_is_not_queued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(url: str, **kwargs: Any) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "240"}, json={"detail": "handoff budget spent"},
                              request=httpx.Request("POST", url))

    monkeypatch.setattr(httpx, "post", refuse)
    client = TicketClient("http://127.0.0.1:9", "token", local_outbox(tmp_path / "outbox.sqlite3"))
    with pytest.raises(HandoffRefused) as refused:
        client.create({"case_number": "AK-7KQ2-M9XD"})
    assert refused.value.retry_after == 240 and len(client.outbox) == 0
