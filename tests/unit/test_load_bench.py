"""The load benchmark's pure parts (bench/load_client.py): message mix, percentiles, the lost/duplicate check."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_load_client", ROOT / "bench" / "load_client.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load_client"] = module
    spec.loader.exec_module(module)
    return module


bench = _bench()


@pytest.fixture(scope="module")
def pools() -> dict:
    return bench.load_pools(ROOT)


# --- message mix ------------------------------------------------------------------------------

def test_pools_come_from_the_kb_and_the_nlu_data(pools: dict) -> None:
    faq = {m.text for m in pools["faq"]}
    assert len(faq) > 100
    assert "Hallo" in {m.text for m in pools["smalltalk"]}
    assert "Danke" in {m.text for m in pools["smalltalk"]}
    assert {m.lang for m in pools["faq"]} == {"de", "en"}
    assert not faq & {m.text for m in pools["offtopic"]}


def test_mix_is_the_same_for_a_seed_and_differs_for_another(pools: dict) -> None:
    first = bench.message_mix(pools, 500, seed=7)
    assert first == bench.message_mix(pools, 500, seed=7)
    assert first != bench.message_mix(pools, 500, seed=8)


@pytest.mark.parametrize("total", [500, 50, 20, 7])
def test_mix_has_the_proportions(pools: dict, total: int) -> None:
    kinds = Counter(m.kind for m in bench.message_mix(pools, total, seed=3))
    assert sum(kinds.values()) == total
    for kind, share in zip(bench.CATEGORIES, bench.DEFAULT_MIX, strict=True):
        assert abs(kinds[kind] - share * total) < 1, (kind, kinds)
    assert Counter(m.kind for m in bench.message_mix(pools, 500, seed=3)) == {"faq": 350, "smalltalk": 75,
                                                                              "offtopic": 75}


def test_mix_is_shuffled_not_in_blocks(pools: dict) -> None:
    kinds = [m.kind for m in bench.message_mix(pools, 100, seed=1)]
    assert kinds[:70] != ["faq"] * 70
    assert "faq" in kinds[85:]


def test_apportion_sums_to_the_total() -> None:
    assert bench.apportion(10, (0.7, 0.15, 0.15)) in ([7, 2, 1], [7, 1, 2])
    assert bench.apportion(3, (1, 1, 1)) == [1, 1, 1]
    assert sum(bench.apportion(101, (0.7, 0.15, 0.15))) == 101


def test_long_conversation_ends_with_its_first_messages(pools: dict) -> None:
    messages = bench.long_conversation(pools, 60, seed=2)
    assert len(messages) == 60
    assert messages[-20:] == messages[:20]
    with pytest.raises(ValueError, match="at least 40"):
        bench.long_conversation(pools, 30, seed=2)


# --- statistics -------------------------------------------------------------------------------

def test_percentile_interpolates_linearly() -> None:
    values = list(range(1, 101))
    assert bench.percentile(values, 50) == pytest.approx(50.5)
    assert bench.percentile(values, 95) == pytest.approx(95.05)
    assert bench.percentile(values, 99) == pytest.approx(99.01)
    assert bench.percentile(values, 0) == 1
    assert bench.percentile(values, 100) == 100
    assert bench.percentile([5.0, 1.0, 3.0], 50) == 3.0
    assert bench.percentile([42.0], 99) == 42.0
    with pytest.raises(ValueError):
        bench.percentile([], 50)


def test_latency_summary_counts_errors_and_leaves_them_out_of_the_latencies() -> None:
    turns = [bench.Turn("a", 100.0), bench.Turn("b", 300.0), bench.Turn("c", 5000.0, "timeout")]
    summary = bench.latency_summary(turns, wall_s=2.0)
    assert summary["messages"] == 3
    assert summary["errors"] == 1
    assert summary["msg_per_s"] == 1.5
    assert summary["p50_ms"] == 200.0
    assert summary["max_ms"] == 300.0


# --- lost / duplicated events -----------------------------------------------------------------

SENT = [("Hallo", True), ("Wie melde ich Sperrmüll an?", True), ("Danke", True), ("Hallo", True)]


def test_exact_match_is_clean() -> None:
    result = bench.check_events(SENT, [text for text, _ in SENT])
    assert result["matched"] == 4
    assert [result[k] for k in ("lost", "duplicated", "reordered", "unexpected")] == [0, 0, 0, 0]


def test_a_missing_event_is_lost() -> None:
    result = bench.check_events(SENT, ["Hallo", "Danke", "Hallo"])
    assert result["lost"] == 1
    assert result["duplicated"] == 0
    assert result["matched"] == 3


def test_a_missing_event_after_a_failed_request_is_counted_apart() -> None:
    sent = [("Hallo", True), ("Wie melde ich Sperrmüll an?", False)]
    result = bench.check_events(sent, ["Hallo"])
    assert (result["lost"], result["lost_after_error"]) == (0, 1)


def test_a_duplicated_event_is_flagged() -> None:
    stored = ["Hallo", "Wie melde ich Sperrmüll an?", "Wie melde ich Sperrmüll an?", "Danke", "Hallo"]
    result = bench.check_events(SENT, stored)
    assert result["duplicated"] == 1
    assert result["lost"] == 0


def test_swapped_events_are_reordered_and_foreign_ones_unexpected() -> None:
    result = bench.check_events([("eins", True), ("zwei", True)], ["zwei", "eins", "drei"])
    assert result["reordered"] == 1
    assert result["unexpected"] == 1
    assert result["lost"] == 0


def test_a_redacted_event_still_matches_its_message() -> None:
    sent = [("Meine E-Mail ist max.muster@example.org", True)]
    result = bench.check_events(sent, ["Meine E-Mail ist [E-MAIL]"])
    assert result["matched"] == 1
    assert result["redacted"] == 1
    assert bench.check_events(sent, ["Meine E-Mail ist [TELEFON]"])["lost"] == 1


# --- the client, against a fake service ---------------------------------------------------------

def test_a_conversation_sends_in_order_and_counts_errors_by_kind() -> None:
    seen: list = []

    def reply(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append((body["sender"], body["message"], request.headers.get("X-Auskunft-Conversation")))
        if body["message"] == "kaputt":
            return httpx.Response(502, json={"detail": "the bot could not answer"})
        if body["message"] == "langsam":
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": "ok"}])

    messages = [bench.Message(text, "de", "faq") for text in ("eins", "kaputt", "langsam", "zwei")]
    turns: list = []

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(reply)) as client:
            await bench.converse(client, "web", "http://web/api/chat", "load-test-sender-01", messages, turns)

    asyncio.run(run())
    assert [t.text for t in turns] == ["eins", "kaputt", "langsam", "zwei"]
    assert [t.error for t in turns] == [None, "http_502", "timeout", None]
    assert seen[0] == ("load-test-sender-01", "eins", "load-test-sender-01")
    assert [s[1] for s in seen] == ["eins", "kaputt", "langsam", "zwei"]
