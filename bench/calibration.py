"""Thresholds that transfer (issue 18): shipped fixed values, dev-tuned, and calibrated without labels, on test.

For each benchmark the kb is built as ``auskunft kb build`` builds it, messages are routed and decided as
the bot does (``bot.evaluation``), and the test split is decided three ways: with the fixed defaults, with
thresholds tuned on the dev split, and with the index's own label-free calibration (``bot.calibration``,
what a new kb without a dev set gets). It also shows the wrong-answer weight's trade-off and, for the
sample kb, the neighbouring-services sets (``tests/data/neighbour_services_*.jsonl``).

    python bench/calibration.py                 # all benchmarks (about 15 min on 2 cores, embeddings cached)
    python bench/calibration.py sample sample-titles
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datasets.titles_only import titles_only_copy  # noqa: E402
from bot.calibration import Shares, Utility, calibrate  # noqa: E402
from bot.config.decision import DecisionConfig  # noqa: E402
from bot.config.settings import get_settings  # noqa: E402
from bot.decision import IntentExamples  # noqa: E402
from bot.evaluation.dataset import load_examples  # noqa: E402
from bot.evaluation.metrics import summarise  # noqa: E402
from bot.evaluation.report import MemoEncoder  # noqa: E402
from bot.evaluation.runner import Ranked, decide_all, rank_all, total_utility, tune_thresholds  # noqa: E402
from bot.kb.loader import load_kb  # noqa: E402
from bot.retrieval.assembly import query_encoder  # noqa: E402
from bot.retrieval.builder import build_index  # noqa: E402
from bot.retrieval.cache import EmbeddingCache  # noqa: E402
from bot.retrieval.index import FaqIndex  # noqa: E402
from bot.retrieval.searcher import FaqSearcher  # noqa: E402
from bot.run.progress import progress_printer  # noqa: E402

DATA = ROOT / ".auskunft" / "bench-data"
TESTS = ROOT / "tests" / "data"
KEYS = ("top1", "answered_correct_rate", "wrong_answer_rate", "clarify_rate", "clarify_with_correct_rate",
        "escalation_recall")
WRONG_WEIGHTS = (-1.0, -2.0, -4.0, -8.0)
SHARES = {"k85-n0-o15": Shares(0.85, 0.0, 0.15), "k90-n0-o10": Shares(0.9, 0.0, 0.1),
          "k75-n0-o25": Shares(0.75, 0.0, 0.25), "k80-n5-o15": Shares(0.8, 0.05, 0.15),
          "k70-n15-o15": Shares(0.7, 0.15, 0.15)}


def benchmarks(work: Path) -> Dict[str, Tuple[Path, Path, Path]]:
    """name -> (kb, dev, test); the titles-only sample kb is written to ``work``."""
    titles = work / "sample-titles-kb"
    titles_only_copy(ROOT / "kb", titles)
    found = {"sample": (ROOT / "kb", TESTS / "sample_kb_dev.jsonl", TESTS / "sample_kb_test.jsonl"),
             "sample-titles": (titles, TESTS / "sample_kb_dev.jsonl", TESTS / "sample_kb_test.jsonl")}
    for name, folder in (("clinc10", DATA / "clinc10"), *((f"integreat-{c}", DATA / "integreat" / c)
                                                         for c in ("lkaugsburg", "muenchen", "rems-murr-kreis"))):
        if (folder / "test.jsonl").is_file():
            found[name] = (folder / "kb", folder / "dev.jsonl", folder / "test.jsonl")
    return found


def figures(ranked: Ranked, config: DecisionConfig, index: FaqIndex) -> Dict[str, float]:
    """The report's figures for ``ranked`` decided under ``config``."""
    report = summarise(decide_all(ranked, config, index), with_ci=False)
    return {key: round(float(report[key]), 4) for key in KEYS}  # type: ignore[arg-type]


def run_one(name: str, kb_dir: Path, dev: Path, test: Path, encoder: MemoEncoder, cache_dir: Path,
            intents: Optional[IntentExamples]) -> Dict[str, object]:
    """All threshold variants on one benchmark."""
    started = time.perf_counter()
    cache = EmbeddingCache(cache_dir, encoder.fingerprint)
    index = build_index(load_kb(kb_dir), encoder, cache, progress_printer(f"{name} index"))
    searcher = FaqSearcher(encoder, index=index)
    dev_ranked = rank_all(searcher, load_examples(dev), progress=progress_printer(f"{name} dev"), intents=intents)
    test_ranked = rank_all(searcher, load_examples(test), progress=progress_printer(f"{name} test"), intents=intents)
    fixed = DecisionConfig()
    tuned = tune_thresholds(dev_ranked, fixed)
    began = time.perf_counter()
    calibration = calibrate(index, encoder, fixed, cache)
    seconds = time.perf_counter() - began
    assert calibration is not None
    shares: Dict[str, object] = {}
    for label, share in SHARES.items():
        chosen = calibrate(index, encoder, fixed, cache, shares=share)
        assert chosen is not None
        config = chosen.applied_to(fixed)
        value = total_utility(decide_all(dev_ranked, config, index), Utility()) / len(dev_ranked)
        shares[label] = {"thresholds": chosen.to_meta(), "dev": figures(dev_ranked, config, index),
                         "dev_utility": round(value, 4), "test": figures(test_ranked, config, index)}
    result: Dict[str, object] = {
        "entries": len(index.records), "adapter": index.adapter is not None,
        "fixed": {"thresholds": asdict(fixed), "test": figures(test_ranked, fixed, index)},
        "dev_tuned": {"thresholds": asdict(tuned), "test": figures(test_ranked, tuned, index)},
        "calibrated": {"thresholds": calibration.to_meta(), "seconds": round(seconds, 2),
                       "test": figures(test_ranked, calibration.applied_to(fixed), index)},
        "wrong_weight": {},
        "shares": shares,
    }
    for weight in WRONG_WEIGHTS:
        chosen = calibrate(index, encoder, fixed, cache, utility=Utility(wrong_answer=weight))
        assert chosen is not None
        result["wrong_weight"][str(weight)] = figures(test_ranked, chosen.applied_to(fixed), index)  # type: ignore[index]
    if name.startswith("sample"):
        neighbours = {split: rank_all(searcher, load_examples(TESTS / f"neighbour_services_{split}.jsonl"),
                                      intents=intents) for split in ("dev", "test")}
        variants = (("fixed", fixed), ("dev_tuned", tuned), ("calibrated", calibration.applied_to(fixed)))
        result["neighbours"] = {label: {split: figures(ranked, config, index) for split, ranked in neighbours.items()}
                                for label, config in variants}
        for share in (0.05, 0.15, 0.3):
            cautious = calibrate(index, encoder, fixed, cache, shares=Shares(0.85 - share, share, 0.15))
            assert cautious is not None
            config = cautious.applied_to(fixed)
            result["neighbours"][f"neighbour_share_{share}"] = {  # type: ignore[index]
                "thresholds": cautious.to_meta(), "in_scope_test": figures(test_ranked, config, index),
                **{split: figures(ranked, config, index) for split, ranked in neighbours.items()}}
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def table(results: Dict[str, Dict[str, object]]) -> str:
    """The markdown table of the docs: answered correctly / wrong / clarify with the right entry, on test."""
    lines = ["| benchmark | fixed defaults | tuned on dev | calibrated, no dev set | calibrated − dev-tuned |",
             "|---|---|---|---|---|"]
    for name, r in results.items():
        cells = []
        for key in ("fixed", "dev_tuned", "calibrated"):
            t = r[key]["test"]  # type: ignore[index]
            cells.append(f"{t['answered_correct_rate']:.3f} / {t['wrong_answer_rate']:.3f} / "
                         f"{t['clarify_with_correct_rate']:.3f}")
        tests = {key: r[key]["test"] for key in ("calibrated", "dev_tuned")}  # type: ignore[index]
        gap = tests["calibrated"]["answered_correct_rate"] - tests["dev_tuned"]["answered_correct_rate"]
        lines.append(f"| {name} | {' | '.join(cells)} | {gap:+.3f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks (default: all that are prepared)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "calibration" / "calibration.json")
    args = parser.parse_args()
    settings = get_settings()
    encoder = MemoEncoder(query_encoder(settings))
    intents = IntentExamples.from_nlu_file(ROOT / "data" / "nlu.yml", encoder.encode)
    results: Dict[str, Dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="auskunft-calibration-") as tmp:
        found = benchmarks(Path(tmp))
        missing: List[str] = [n for n in args.names if n not in found]
        if missing:
            print(f"error: unknown or unprepared benchmark(s) {missing}; prepare them with bench/external.py "
                  f"(known: {', '.join(found)})", file=sys.stderr)
            return 2
        for name in args.names or list(found):
            results[name] = run_one(name, *found[name], encoder, settings.cache_dir, intents)
            tests = {k: results[name][k]["test"] for k in ("fixed", "dev_tuned", "calibrated")}  # type: ignore[index]
            print(f"\n{name}: {json.dumps(tests)}", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.json.read_text(encoding="utf-8")) if args.json.is_file() else {}
    previous.update(results)
    args.json.write_text(json.dumps(previous, indent=2), encoding="utf-8")
    print("\nanswered correctly / wrong answers / choices with the right entry (test split):\n")
    print(table(results))
    print("\nprobe shares (known-neighbour-offtopic): mean dev utility over the benchmarks -> test answered/wrong\n")
    for label in SHARES:
        dev = [r["shares"][label]["dev_utility"] for r in results.values()]  # type: ignore[index]
        tests = " ".join(f"{name} {r['shares'][label]['test']['answered_correct_rate']:.3f}/"  # type: ignore[index]
                         f"{r['shares'][label]['test']['wrong_answer_rate']:.3f}" for name, r in results.items())
        print(f"  {label}: dev utility {sum(dev) / len(dev):.4f}  |  {tests}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
