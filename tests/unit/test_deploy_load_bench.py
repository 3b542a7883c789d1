"""The pure parts of the load benchmark through nginx (bench/deploy_load.py, bench/deploy_audit.py)."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.deploy_audit import lost_or_duplicated, tally  # noqa: E402
from bench.deploy_load import FOLLOW_UPS, HANDOFF, script  # noqa: E402
from bench.load_client import Message, Turn  # noqa: E402

FAQ = [Message(f"Frage {i}?", "de", "faq") for i in range(20)]
CREATED = [{"custom": {"step": "created"}}]


def test_a_script_has_the_turns_asked_for_and_a_handoff_at_its_end() -> None:
    rng = random.Random(3)
    plain, handoff = script(FAQ, 10, rng, False), script(FAQ, 10, rng, True)
    assert len(plain) == len(handoff) == 10
    assert handoff[-3:] == list(HANDOFF) and HANDOFF[0] not in plain
    assert plain[0].startswith("Frage") and set(plain) & set(FOLLOW_UPS)  # questions with follow-ups


def _sent(texts: List[str], errors: Optional[List[Optional[str]]] = None,
          replies: Optional[List[List[Dict[str, Any]]]] = None) -> Dict[str, Any]:
    errors = errors or [None] * len(texts)
    return {"turns": [Turn(t, 1.0, e) for t, e in zip(texts, errors, strict=True)],
            "replies": replies or [[{"text": "ok"}] for _ in texts]}


def _events(texts: List[str]) -> List[Tuple[str, str]]:
    return [pair for text in texts for pair in (("user", text), ("bot", "ok"))]


def test_everything_stored_once_counts_nothing() -> None:
    texts = ["Frage 1?", "Und was kostet das?"]
    counts = tally({"a" * 16: _sent(texts)}, {"a" * 16: _events(texts)}, {})
    assert lost_or_duplicated(counts) == 0 and counts["stored"] == counts["bot_stored"] == 2


def test_a_payload_stored_as_words_is_that_payload_and_a_missing_answer_is_lost() -> None:
    texts = ["Frage 1?", "/affirm"]
    counts = tally({"s": _sent(texts)}, {"s": [("user", "Frage 1?"), ("bot", "ok"), ("user", "affirm")]}, {})
    assert counts["unexpected"] == counts["lost"] == 0  # "/affirm" not offered -> stored as "affirm"
    assert counts["bot_lost"] == 1 and lost_or_duplicated(counts) == 1


def test_reordering_counts_only_without_a_failed_request_and_duplicates_always() -> None:
    failed = _sent(["A", "B"], ["http_504", None])
    counts = tally({"s": failed}, {"s": [("user", "B"), ("user", "A")]}, {})
    assert counts["reordered"] == 1 and counts["clean_reordered"] == 0 and lost_or_duplicated(counts) == 0
    twice = tally({"s": _sent(["A"])}, {"s": _events(["A", "A"])}, {})
    assert twice["duplicated"] == 1 and lost_or_duplicated(twice) >= 1


def test_tickets_one_per_confirmed_handoff() -> None:
    confirmed = _sent(list(HANDOFF), replies=[[{"text": "?"}], [{"text": "?"}], CREATED])
    sent = {"h": confirmed, "p": _sent(["A"])}
    events = {"h": _events(list(HANDOFF)), "p": _events(["A"])}
    assert lost_or_duplicated(tally(sent, events, {"h": 1})) == 0
    assert tally(sent, events, {})["tickets_lost"] == 1
    assert tally(sent, events, {"h": 2})["tickets_duplicated"] == 1
    assert tally(sent, events, {"h": 1, "p": 1})["tickets_unexpected"] == 1
