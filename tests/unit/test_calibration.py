"""Label-free thresholds: probes from the kb, the vectorised search equals the bot's policy, settings apply them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.calibration import Calibration, Shares, Utility, calibrate, thresholds_for
from bot.calibration.probes import KNOWN, NEIGHBOUR, OFFTOPIC, Probe, kb_probes, offtopic_messages
from bot.calibration.tuning import ProbeTable, search_thresholds, weighted_utility
from bot.config.decision import DecisionConfig
from bot.kb import load_kb
from bot.retrieval.builder import build_index
from bot.retrieval.index import Candidate
from tests.conftest import HashEncoder


def _candidates(rng: np.random.Generator, ids: list[str]) -> tuple[Candidate, ...]:
    scores = np.sort(rng.uniform(-0.1, 0.9, size=rng.integers(0, 6)))[::-1]
    chosen = rng.choice(ids, size=len(scores), replace=False)
    return tuple(Candidate(str(i), float(s), "", "", "de", "") for i, s in zip(chosen, scores, strict=True))


def test_vectorised_utility_equals_the_policy_probe_by_probe() -> None:
    rng = np.random.default_rng(7)
    ids = [f"e{i}" for i in range(8)]
    probes = []
    for n in range(300):
        kind = (KNOWN, NEIGHBOUR, OFFTOPIC)[n % 3]
        probes.append(Probe(kind, (str(rng.choice(ids)),) if kind == KNOWN else (), _candidates(rng, ids)))
    weights = Shares(0.6, 0.25, 0.15).by_kind()
    for trial in range(60):
        answer = float(rng.uniform(0.0, 0.8))
        config = DecisionConfig(answer_threshold=answer, clarify_threshold=float(rng.uniform(-0.1, answer)),
                                min_margin=float(rng.choice([0.0, 0.01, 0.05])), max_choices=int(rng.integers(2, 6)),
                                max_misses=int(rng.integers(1, 3)))
        utility = Utility(wrong_answer=float(rng.choice([-1.0, -4.0])))
        assert ProbeTable(probes, config.max_choices).utility(config, utility, weights) == pytest.approx(
            weighted_utility(probes, config, utility, weights)), (trial, config)


def _probe(kind: str, expected: tuple[str, ...], *scored: tuple[str, float]) -> Probe:
    return Probe(kind, expected, tuple(Candidate(i, s, "", "", "de", "") for i, s in scored))


def test_search_puts_the_answer_threshold_between_known_and_offtopic_scores() -> None:
    probes = [_probe(KNOWN, ("a",), ("a", 0.8), ("b", 0.5))] * 20 + [_probe(OFFTOPIC, (), ("a", 0.35), ("b", 0.3))] * 5
    chosen = search_thresholds(probes, DecisionConfig(), shares=Shares(0.85, 0.0, 0.15))
    assert 0.35 <= chosen.answer_threshold <= 0.8
    assert chosen.clarify_threshold <= chosen.answer_threshold
    table = ProbeTable(probes)
    assert table.utility(chosen, Utility(), Shares(0.85, 0.0, 0.15).by_kind()) == pytest.approx(1.0)  # all right


def test_a_costlier_wrong_answer_raises_the_threshold() -> None:
    probes = ([_probe(KNOWN, ("a",), ("a", s), ("b", s - 0.2)) for s in np.linspace(0.4, 0.9, 30)]
              + [_probe(NEIGHBOUR, (), ("b", s), ("c", s - 0.2)) for s in np.linspace(0.3, 0.6, 10)])
    cheap = search_thresholds(probes, DecisionConfig(), Utility(clarify_with_correct=0.0, wrong_answer=-0.5),
                              Shares(0.75, 0.25, 0.0))
    dear = search_thresholds(probes, DecisionConfig(), Utility(clarify_with_correct=0.0, wrong_answer=-8.0),
                             Shares(0.75, 0.25, 0.0))
    assert dear.answer_threshold > cheap.answer_threshold


def test_shares_must_sum_to_one() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        Shares(0.5, 0.5, 0.5)


def test_held_out_probes_leave_out_the_phrasing_and_then_the_entry(mini_kb: Path, encoder: HashEncoder) -> None:
    index = build_index(load_kb(mini_kb), encoder, adapter=None)
    probes = kb_probes(index, per_entry=1)
    known = [p for p in probes if p.kind == KNOWN]
    neighbours = [p for p in probes if p.kind == NEIGHBOUR]
    assert len(known) == len(neighbours) == len(index.records)
    for probe in neighbours:
        assert probe.expected == ()
    for k, n in zip(known, neighbours, strict=True):
        assert k.expected[0] not in {c.faq_id for c in n.candidates}  # the entry itself is gone
        assert all(c.score < 0.999 for c in k.candidates)  # its own phrasing is not there to match itself


def test_held_out_scores_rejects_a_row_outside_the_index(mini_kb: Path, encoder: HashEncoder) -> None:
    index = build_index(load_kb(mini_kb), encoder, adapter=None)
    with pytest.raises(IndexError, match="phrasing row"):
        index.held_out_scores(len(index.owners))


def test_calibrate_records_thresholds_that_round_trip(mini_kb: Path, encoder: HashEncoder) -> None:
    index = build_index(load_kb(mini_kb), encoder, adapter=None)
    calibration = calibrate(index, encoder)
    assert calibration is not None and calibration.probes > len(index.records)
    again = Calibration.from_meta({"calibration": calibration.to_meta()})
    assert again is not None and again.answer_threshold == pytest.approx(calibration.answer_threshold, abs=1e-4)
    assert Calibration.from_meta({"calibration": {"answer_threshold": "x"}}) is None
    assert Calibration.from_meta({}) is None


def test_offtopic_file_parses_and_bad_lines_are_named(tmp_path: Path) -> None:
    messages = offtopic_messages()
    assert len(messages) >= 100 and {lang for lang, _ in messages} == {"de", "en"}
    bad = tmp_path / "off.tsv"
    bad.write_text("de\tWie spät ist es?\nfr\tQuelle heure est-il ?\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"off.tsv:2"):
        offtopic_messages(bad)


def test_the_bot_uses_the_index_calibration_unless_thresholds_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config.settings import Settings

    meta = {"calibration": Calibration(0.61, 0.22, 0.02, 10).to_meta()}
    for name in ("AUSKUNFT_ANSWER_THRESHOLD", "AUSKUNFT_CLARIFY_THRESHOLD", "AUSKUNFT_MIN_MARGIN", "AUSKUNFT_THRESHOLDS"):
        monkeypatch.delenv(name, raising=False)
    calibrated = thresholds_for(Settings(), meta)  # type: ignore[call-arg]
    assert (calibrated.answer_threshold, calibrated.clarify_threshold, calibrated.min_margin) == (0.61, 0.22, 0.02)
    assert thresholds_for(Settings(), {}) == Settings().decision_config()  # type: ignore[call-arg]
    monkeypatch.setenv("AUSKUNFT_ANSWER_THRESHOLD", "0.5")
    assert thresholds_for(Settings(), meta).answer_threshold == 0.5  # type: ignore[call-arg]
    monkeypatch.delenv("AUSKUNFT_ANSWER_THRESHOLD")
    monkeypatch.setenv("AUSKUNFT_THRESHOLDS", "fixed")
    assert thresholds_for(Settings(), meta) == replace(  # type: ignore[call-arg]
        calibrated, answer_threshold=DecisionConfig.answer_threshold, clarify_threshold=DecisionConfig.clarify_threshold,
        min_margin=DecisionConfig.min_margin)


def test_a_published_index_carries_its_calibration(mini_kb: Path, encoder: HashEncoder, tmp_path: Path) -> None:
    from bot.publish.build import build_and_publish
    from bot.retrieval.store import IndexStore

    report = build_and_publish(mini_kb, tmp_path / "index", tmp_path / "cache", encoder)
    assert report.calibration is not None
    live = IndexStore(tmp_path / "index").current()
    assert Calibration.from_meta(live.meta) == report.calibration
    again = build_and_publish(mini_kb, tmp_path / "index", tmp_path / "cache", encoder)
    assert again.unchanged and again.calibration is None  # nothing rebuilt, the live calibration stays


def test_a_lone_title_is_asked_of_every_entrys_passages(tmp_path: Path, encoder: HashEncoder) -> None:
    root = tmp_path / "kb"
    root.mkdir()
    for key, title, text in (("aa", "Hundesteuer anmelden", "Die Hundesteuer melden Sie im Steueramt an."),
                             ("bb", "Hundesteuer Sperrmüll", "Sperrmüll holen wir zweimal im Jahr kostenlos ab.")):
        (root / f"{key}.md").write_text(f"---\nid: {key}\ntitle: {title}\nlang: de\ntags: [t]\nsource: "
                                        f"https://example.org/{key}\nowner: Amt\nupdated: 2026-01-01\n---\n{text}\n",
                                        encoding="utf-8")
    index = build_index(load_kb(root), encoder, lexical_weight=0.0, adapter=None)
    query = index.vectors[0]
    best_passage = [float(max(index.answers[index.answer_owners == i] @ query)) for i in range(2)]
    # the look-alike title of "bb" (its phrasing row) plays no part, only each entry's passages
    assert index.held_out_scores(0) == pytest.approx(best_passage, abs=1e-5)
