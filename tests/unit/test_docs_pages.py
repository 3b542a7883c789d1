"""The generated documentation pages are current, and the generators read what they claim to read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config.settings import Settings
from bot.docs_pages import benchmarks, configuration
from tests.conftest import ROOT


def test_configuration_page_is_current() -> None:
    committed = (ROOT / configuration.PAGE).read_text(encoding="utf-8")
    assert committed == configuration.render(), \
        "docs/configuration.md is out of date with bot/settings.py: run 'make docs-gen' and commit it"


def test_benchmark_page_is_current() -> None:
    committed = (ROOT / benchmarks.PAGE).read_text(encoding="utf-8")
    assert committed == benchmarks.render(), \
        "docs/benchmarks-figures.md is out of date with bench/results/*.json: run 'make docs-gen' and commit it"


def test_every_setting_has_a_row_with_its_variable_and_an_explanation() -> None:
    page = configuration.render()
    for name in Settings.__fields__:
        row = next((line for line in page.splitlines() if line.startswith(f"| `AUSKUNFT_{name.upper()}` |")), None)
        assert row is not None, f"no row for {name}"
        assert not row.endswith("| – |"), f"{name} has neither a Field description nor a note in NOTES"


def test_notes_name_only_real_settings() -> None:
    unknown = set(configuration.NOTES) - set(Settings.__fields__)
    assert not unknown, f"configuration.NOTES names settings that no longer exist: {sorted(unknown)}"


def _report(top1: float, **extra: object) -> dict:
    figures = {"top1": top1, "answered_correct_rate": 0.5, "wrong_answer_rate": 0.1, "escalation_recall": 0.9,
               "auroc": 0.8}
    return {**figures, "recall_at_3": 0.97, "mrr_at_10": 0.91, **extra,
            "baselines": {"bm25": {**figures, "top1": 0.5}, "cosine": {**figures, "top1": 0.6}},
            "bot_at_baseline_answered": {"bm25": {"wrong_answer_rate": 0.0123}, "cosine": None}}


def test_benchmark_page_renders_each_report_in_order(tmp_path: Path) -> None:
    for name, top1 in (("clinc100", 0.93), ("clinc5", 0.8), ("sample", 0.95)):
        (tmp_path / f"{name}.json").write_text(json.dumps(_report(top1)), encoding="utf-8")
    page = benchmarks.render(tmp_path)
    assert page.index("## sample") < page.index("## clinc5") < page.index("## clinc100")
    assert "| bot | 0.950 | 0.970 | 0.910 | 0.500 | 0.100 | 0.900 | 0.800 |  |" in page
    assert "| bm25 | 0.500 | – | – | 0.500 | 0.100 | 0.900 | 0.800 | 0.012 |" in page
    assert "| cosine | 0.600 |" in page and "| not reached |" in page
    assert "Top-1, bot / BM25 (site search): **1.90×**" in page
    assert "`python bench/external.py clinc5`" in page and "Key figures only" not in page


def test_a_transcribed_report_says_so(tmp_path: Path) -> None:
    (tmp_path / "clinc10.json").write_text(json.dumps(_report(0.84, transcribed_from="from the README")),
                                           encoding="utf-8")
    assert "!!! note \"Key figures only\"\n    from the README" in benchmarks.render(tmp_path)


def test_a_file_that_is_not_a_report_is_named(tmp_path: Path) -> None:
    (tmp_path / "weights.json").write_text(json.dumps({"answer": 2}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"weights\.json: not a report"):
        benchmarks.render(tmp_path)
