"""The evaluation: metrics, threshold tuning on dev, baselines, and the report's keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.decision import DecisionConfig
from bot.evaluation.baselines import Bm25Baseline
from bot.evaluation.dataset import Example, load_examples
from bot.evaluation.metrics import auroc, bootstrap_ci
from bot.evaluation.report import evaluate
from bot.kb import load_kb
from tests.conftest import HashEncoder

KEYS = {"top1", "recall_at_3", "mrr_at_10", "answered_correct_rate", "wrong_answer_rate", "clarify_rate",
        "clarify_with_correct_rate", "handoff_rate", "escalation_recall", "auroc"}


def test_auroc_and_bootstrap() -> None:
    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auroc([0.1], [0.9]) == 0.0
    assert auroc([0.5, 0.5], [0.5]) == 0.5
    low, high = bootstrap_ci([1.0] * 50 + [0.0] * 50)
    assert 0.35 < low < 0.5 < high < 0.65


def test_examples_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"text": "a", "expected": []}\n{"text": "b"}\n')
    with pytest.raises(ValueError, match="x.jsonl:2"):
        load_examples(path)


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_bm25_baseline_ranks_by_keywords(mini_kb: Path) -> None:
    ranked = Bm25Baseline(load_kb(mini_kb)).rank([Example("Sperrmüll Abholung", ("sperrmuell",))])
    assert ranked[0][1][0].faq_id == "sperrmuell"
    assert 0 < ranked[0][1][0].score < 1


def test_report_has_the_issue_keys_for_bot_and_baselines(mini_kb: Path, tmp_path: Path) -> None:
    test = write_jsonl(tmp_path / "test.jsonl", [
        {"text": "Sperrmüll abholen lassen", "expected": ["sperrmuell"]},
        {"text": "Personalausweis beantragen Bürgeramt", "expected": ["personalausweis"]},
        {"text": "Wetter morgen Sonne", "expected": []},
    ])
    dev = write_jsonl(tmp_path / "dev.jsonl", [
        {"text": "Möbel Sperrmüll", "expected": ["sperrmuell"]},
        {"text": "Hund Steuer anmelden", "expected": ["hundesteuer-anmelden"]},
        {"text": "Fußball Ergebnis", "expected": []},
    ])
    report, ranked, config = evaluate(mini_kb, test, HashEncoder(), DecisionConfig(), dev_file=dev,
                                      baselines=["bm25", "cosine"])  # response_selector: tests/integration
    assert KEYS <= set(report) and set(report["baselines"]) == {"bm25", "cosine"}
    for baseline in report["baselines"].values():
        assert KEYS <= set(baseline)
    assert report["tuned_on_dev"] is True and len(ranked) == 3
    assert report["top1"] == 1.0
    assert report["thresholds"]["answer_threshold"] == config.answer_threshold
    with pytest.raises(ValueError, match="unknown baseline"):
        evaluate(mini_kb, test, HashEncoder(), DecisionConfig(), baselines=["magic"])


def test_eval_command_writes_json_and_plots(mini_kb: Path, tmp_path: Path, isolated_settings: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.cli as cli

    monkeypatch.setattr("bot.embedding.encoder.shared_encoder", lambda model, threads=1, **_: HashEncoder())
    test = write_jsonl(tmp_path / "t.jsonl", [{"text": "Sperrmüll", "expected": ["sperrmuell"]},
                                              {"text": "Wetter", "expected": []}])
    code = cli.main(["eval", str(mini_kb), str(test), "--json", str(tmp_path / "r.json"),
                     "--plots", str(tmp_path / "plots"), "--baselines", "bm25,cosine"])
    assert code == 0
    assert KEYS <= set(json.loads((tmp_path / "r.json").read_text()))
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "outcomes_vs_threshold.png", "reliability.png", "score_distributions.png"]


def test_response_selector_project_and_ranking_without_training(mini_kb: Path, tmp_path: Path) -> None:
    import yaml

    from bot.evaluation.response_selector import ResponseSelectorBaseline

    kb = load_kb(mini_kb)
    selector = ResponseSelectorBaseline(kb, tmp_path / "rs", epochs=7)
    files = selector.write_project()
    nlu = yaml.safe_load(files["nlu"].read_text(encoding="utf-8"))["nlu"]
    assert {item["intent"] for item in nlu} == {f"faq/{e.id}" for e in kb.entries}
    sperrmuell = next(item for item in nlu if item["intent"] == "faq/sperrmuell")
    assert sperrmuell["examples"] == "".join(f"- {p}\n" for p in kb.by_id()["sperrmuell"].phrasings)
    domain = yaml.safe_load(files["domain"].read_text(encoding="utf-8"))
    assert set(domain["responses"]) == {f"utter_faq/{e.id}" for e in kb.entries}
    pipeline = yaml.safe_load(files["config"].read_text(encoding="utf-8"))["pipeline"]
    assert [c["name"] for c in pipeline][-1] == "ResponseSelector" and pipeline[-1]["epochs"] == 7
    ranking = [{"intent_response_key": "faq/personalausweis", "confidence": 0.2},
               {"intent_response_key": "faq/sperrmuell", "confidence": 0.7},
               {"intent_response_key": "faq/unknown", "confidence": 0.1}]
    candidates = selector._candidates(ranking, k=1)
    assert [(c.faq_id, c.score) for c in candidates] == [("sperrmuell", 0.7)]


def test_bot_is_compared_at_the_baselines_answered_rate() -> None:
    from bot.evaluation.runner import wrong_at_answered
    from bot.retrieval.index import Candidate

    def ranked(faq_id: str, score: float, expected: list) -> tuple:
        cands = [Candidate(faq_id, score, "", "", "de", ""), Candidate("other", 0.0, "", "", "de", "")]
        return (Example(f"q{score}", tuple(expected)), cands)

    data = [ranked("a", 0.9, ["a"]), ranked("b", 0.8, ["b"]), ranked("x", 0.7, ["c"]), ranked("d", 0.6, ["d"]),
            ranked("z", 0.5, [])]
    config = DecisionConfig(answer_threshold=0.95, clarify_threshold=0.95, min_margin=0.0)
    half = wrong_at_answered(data, config, 0.5)
    assert half is not None and half["answered_correct_rate"] == 0.5 and half["wrong_answer_rate"] == 0.0
    assert 0.8 <= half["answer_threshold"] <= 0.9  # the highest threshold that answers a and b
    full = wrong_at_answered(data, config, 0.75)
    assert full is not None and full["wrong_answer_rate"] == 0.2  # reaching d also answers x wrongly
    assert wrong_at_answered(data, config, 1.0) is None  # c is never ranked first


def test_matching_drops_the_margin_rule_only_when_it_blocks() -> None:
    from bot.evaluation.runner import wrong_at_answered
    from bot.retrieval.index import Candidate

    close = [Candidate("a", 0.9, "", "", "de", ""), Candidate("b", 0.89, "", "", "de", "")]
    data = [(Example("q", ("a",)), close)]
    config = DecisionConfig(answer_threshold=0.95, clarify_threshold=0.95, min_margin=0.05)
    matched = wrong_at_answered(data, config, 1.0)
    assert matched is not None and matched["min_margin"] == 0.0 and matched["answered_correct_rate"] == 1.0
