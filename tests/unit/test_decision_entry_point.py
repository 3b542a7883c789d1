"""Every caller decides through bot.decision.decide_turn, so eval, preview and the bot agree."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import Dict, List, Set

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerFaq
from bot.config.settings import get_settings
from bot.decision import HANDOFF, DecisionConfig
from bot.editor.preview import preview
from bot.evaluation.dataset import Example
from bot.evaluation.runner import decide_all, rank_all
from bot.kb.loader import load_kb
from bot.publish.build import build_and_publish
from bot.retrieval.builder import build_index
from bot.retrieval.searcher import FaqSearcher
from tests.conftest import ROOT, HashEncoder

CALLERS = {"actions/answer.py", "actions/smalltalk.py", "bot/editor/preview.py", "bot/editor/diff.py",
           "bot/editor/overlap.py", "bot/evaluation/runner.py"}


def calls_in(path: Path) -> Set[str]:
    """Names of the functions a module calls (plain names and attribute names)."""
    names: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.id if isinstance(func, ast.Name) else getattr(func, "attr", ""))
    return names


def modules() -> Dict[str, Set[str]]:
    files = [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("actions").rglob("*.py")]
    return {str(p.relative_to(ROOT)): calls_in(p) for p in files}


def test_only_the_entry_point_applies_the_policy_and_the_withdrawal() -> None:
    found = modules()
    for name in ("decide", "withdraw_overdue"):
        users = {path for path, calls in found.items() if name in calls}
        assert users <= {"bot/decision/turn.py"}, f"{name}() called outside bot.decision.turn: {sorted(users)}"


def test_every_caller_that_decides_uses_the_entry_point() -> None:
    found = modules()
    users = {path for path, calls in found.items() if "decide_turn" in calls}
    assert CALLERS <= users, f"not using decide_turn: {sorted(CALLERS - users)}"


@pytest.fixture
def overdue_kb(tmp_path: Path, mini_kb: Path) -> Path:
    path = mini_kb / "buergeramt" / "personalausweis.md"
    path.write_text(path.read_text(encoding="utf-8").replace("updated: 2026-11-01", "updated: 2019-11-01")
                    .replace("review_by: 2027-05-01", "review_by: 2020-01-01"),
                    encoding="utf-8")
    return mini_kb


def test_with_withdrawal_on_eval_preview_and_bot_agree_on_an_overdue_entry(
        overdue_kb: Path, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUSKUNFT_WITHDRAW_OVERDUE", "true")
    get_settings.cache_clear()
    settings = get_settings()
    encoder = HashEncoder()
    question = "Wie beantrage ich einen neuen Personalausweis?"
    config = DecisionConfig(answer_threshold=0.1, clarify_threshold=0.05, min_margin=0.0)
    index = build_index(load_kb(overdue_kb), encoder)
    searcher = FaqSearcher(encoder, index=index)
    ranked = rank_all(searcher, [Example(question, ("personalausweis",), "de")])
    assert ranked[0][1][0].faq_id == "personalausweis"  # the overdue entry is the best match

    offline = decide_all(ranked, config, index, withdraw=settings.withdraw_overdue)[0].decision
    shown = preview(question, searcher, config, settings.withdraw_overdue)
    build_and_publish(overdue_kb, settings.index_dir, settings.cache_dir, encoder)
    monkeypatch.setenv("AUSKUNFT_ANSWER_THRESHOLD", "0.1")
    monkeypatch.setenv("AUSKUNFT_CLARIFY_THRESHOLD", "0.05")
    monkeypatch.setenv("AUSKUNFT_MIN_MARGIN", "0.0")
    get_settings.cache_clear()
    candidates: List[dict] = [c.to_dict() for c in ranked[0][1]]
    latest = {"text": question, "intent": {"name": "faq"}, "entities": [],
              "faq": {"candidates": candidates, "lang": "de", "index_version": index.version}}
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswerFaq().run(dispatcher, Tracker("c", {}, latest, [], False, None, {}, ""), {}))
    live_reason = next(e["value"] for e in events if e.get("name") == "handoff_reason")

    assert (offline.action, offline.reason) == (HANDOFF, "withdrawn")
    assert (shown.action, shown.reason) == (HANDOFF, "withdrawn")
    assert live_reason == "withdrawn"
