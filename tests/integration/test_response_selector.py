"""Rasa's stock FAQ model (ResponseSelector) as a baseline: trained in-process on the small fixture kb."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation.dataset import Example
from bot.evaluation.response_selector import ResponseSelectorBaseline
from bot.kb import load_kb

pytestmark = pytest.mark.slow


def test_trained_response_selector_ranks_a_training_phrasing_first(mini_kb: Path, tmp_path: Path) -> None:
    kb = load_kb(mini_kb)
    calls = []
    selector = ResponseSelectorBaseline(kb, tmp_path / "rs", epochs=30,
                                        progress=lambda label: lambda done, total: calls.append((label, done, total)))
    examples = [Example(entry.phrasings[-1], (entry.id,)) for entry in kb.entries]
    ranked = selector.rank(examples, k=3)

    assert (tmp_path / "rs" / "models" / "response-selector.tar.gz").is_file()
    assert calls[-1] == ("response_selector train", 30, 30) and selector.train_seconds is not None
    assert [example for example, _ in ranked] == examples
    for example, candidates in ranked:
        assert candidates[0].faq_id == example.expected[0], example.text
        scores = [c.score for c in candidates]
        assert len(candidates) == 3 and all(0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)
    assert len(selector.rank(examples[:1], k=1)[0][1]) == 1
    assert selector.rank([]) == []


def test_temporary_work_dir_is_removed_on_close(mini_kb: Path) -> None:
    selector = ResponseSelectorBaseline(load_kb(mini_kb))
    work_dir = selector.work_dir
    selector.write_project()
    assert (work_dir / "nlu.yml").is_file()
    selector.close()
    assert not work_dir.exists()
