"""The measured quality is the quality citizens get: offline eval and the live services agree per message."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config.settings import PROJECT_ROOT, Settings
from bot.embedding.st_encoder import Encoder
from bot.evaluation.report import evaluate
from tests.conftest import DATA
from tests.e2e.conftest import Running

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_offline_and_end_to_end_eval_agree_on_the_sample_test_set(services: Running, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, home=tmp_path / "home")  # type: ignore[call-arg]
    encoder = Encoder(services.env["AUSKUNFT_EMBEDDING_MODEL"], threads=settings.encoder_threads)
    report, _, _ = evaluate(services.kb, DATA / "sample_kb_test.jsonl", encoder, settings.decision_config(),
                            baselines=(), withdraw=settings.withdraw_overdue,
                            nlu_file=PROJECT_ROOT / "data" / "nlu.yml", live_url=services.web)
    lived = report["end_to_end"]
    assert isinstance(lived, dict)
    assert lived["agreement_with_offline"] >= 0.99, lived["disagreements"]
    # The figures, as citizens get them.
    assert lived["smalltalk_rate_out_of_scope"] <= 0.025  # at most the one genuine bot challenge of 40
    assert lived["escalation_recall"] >= 0.85  # 0.875 measured; the 95 % target needs issue 18 (neighbouring services)
    assert lived["language_mismatch_rate"] <= 0.02
    assert lived["answered_correct_rate"] >= 0.88
