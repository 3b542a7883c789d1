"""Answer quality on the sample kb: unseen phrasings (tests/data) through the live retrieval + decision.

Thresholds are the live index's calibrated ones (or fixed ones, see ``AUSKUNFT_THRESHOLDS``);
``--tune`` chooses them on the dev file first
(never on the test file) and prints the values to put into the configuration.

    python bench/quality.py [--tune] [--json bench/results/quality.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.calibration import thresholds_for  # noqa: E402
from bot.config.settings import get_settings  # noqa: E402
from bot.embedding.encoder import shared_encoder  # noqa: E402
from bot.evaluation.dataset import load_examples  # noqa: E402
from bot.evaluation.metrics import REPORT_KEYS, summarise  # noqa: E402
from bot.evaluation.runner import decide_all, rank_all, tune_thresholds  # noqa: E402
from bot.retrieval.searcher import FaqSearcher  # noqa: E402
from bot.retrieval.store import IndexStore  # noqa: E402
from bot.run.progress import progress_printer  # noqa: E402

KEYS = REPORT_KEYS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=ROOT / "tests/data/sample_kb_dev.jsonl")
    parser.add_argument("--test", type=Path, default=ROOT / "tests/data/sample_kb_test.jsonl")
    parser.add_argument("--tune", action="store_true", help="choose thresholds on --dev first")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    args = parser.parse_args()

    settings = get_settings()
    searcher = FaqSearcher(shared_encoder(settings.model_name, settings.encoder_threads),
                           store=IndexStore(settings.index_dir), default_language=settings.default_language)
    config = thresholds_for(settings, searcher.index().meta)  # the index's calibrated thresholds unless fixed
    if args.tune:
        dev = rank_all(searcher, load_examples(args.dev), progress=progress_printer("dev "))
        config = tune_thresholds(dev, config)
        print(f"thresholds chosen on {args.dev.name}: answer {config.answer_threshold}, "
              f"clarify {config.clarify_threshold}, margin {config.min_margin}")
    examples = load_examples(args.test)
    started = time.perf_counter()
    ranked = rank_all(searcher, examples, progress=progress_printer("test"))
    report = summarise(decide_all(ranked, config))
    seconds = time.perf_counter() - started
    print(f"\n{args.test.name}: {report['n_in_scope']} in-scope, {report['n_out_of_scope']} out-of-scope "
          f"messages, index {searcher.index().version}, {seconds:.1f} s")
    ci = report["ci95"]
    for key in KEYS:
        extra = f"  (95% CI {ci[key][0]:.3f}-{ci[key][1]:.3f})" if key in ci else ""  # type: ignore[index]
        print(f"  {key:<27} {report[key]:.3f}{extra}")
    target_ok = report["top1"] >= 0.90 and report["escalation_recall"] >= 0.90  # type: ignore[operator]
    print(f"\ncore targets (top-1 >= 0.90, off-topic escalated >= 0.90): {'met' if target_ok else 'NOT met'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report["thresholds"] = {"answer": config.answer_threshold, "clarify": config.clarify_threshold,
                                "margin": config.min_margin}
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
