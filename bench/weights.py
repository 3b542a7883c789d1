"""Choose the index's signal weights (answer passages, keywords) and the kb adapter on dev splits only.

For each dataset (a kb directory and its dev JSONL) the kb is embedded once, then
every (answer_weight, lexical_weight) pair ranks the dev messages; thresholds are
tuned on the same dev set. Test files are never read.

    python bench/weights.py sample=kb:tests/data/sample_kb_dev.jsonl \\
        clinc10=/tmp/bd/clinc10/kb:/tmp/bd/clinc10/dev.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config.settings import get_settings  # noqa: E402
from bot.evaluation.dataset import load_examples  # noqa: E402
from bot.evaluation.metrics import summarise  # noqa: E402
from bot.evaluation.report import MemoEncoder  # noqa: E402
from bot.evaluation.runner import decide_all, rank_all, tune_thresholds  # noqa: E402
from bot.kb.loader import load_kb  # noqa: E402
from bot.retrieval.builder import build_index  # noqa: E402
from bot.retrieval.cache import EmbeddingCache  # noqa: E402
from bot.retrieval.searcher import FaqSearcher  # noqa: E402

KEYS = ("top1", "recall_at_3", "answered_correct_rate", "wrong_answer_rate", "escalation_recall", "auroc")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", help="name=KB_DIR:DEV_JSONL")
    parser.add_argument("--answer", default="0,1,2", help="answer weights to try")
    parser.add_argument("--lexical", default="0,0.25,0.5,1", help="keyword weights to try")
    parser.add_argument("--adapter", default="off,on", help="with and/or without the kb adapter")
    args = parser.parse_args()
    settings = get_settings()
    from bot.embedding.encoder import shared_encoder

    encoder = MemoEncoder(shared_encoder(settings.model_name, settings.encoder_threads))
    grid = list(itertools.product([float(a) for a in args.answer.split(",")],
                                  [float(x) for x in args.lexical.split(",")], args.adapter.split(",")))
    table: Dict[str, List[Dict[str, float]]] = {}
    for spec in args.datasets:
        name, _, paths = spec.partition("=")
        kb_dir, _, dev_file = paths.partition(":")
        index = build_index(load_kb(Path(kb_dir)), encoder, EmbeddingCache(settings.cache_dir, encoder.fingerprint))
        dev = load_examples(Path(dev_file))
        rows = []
        for answer_weight, lexical_weight, adapter in grid:
            variant = index.reweighted(answer_weight, lexical_weight)
            searcher = FaqSearcher(encoder, index=variant if adapter == "on" else variant.without_adapter())
            ranked = rank_all(searcher, dev)
            report = summarise(decide_all(ranked, tune_thresholds(ranked, settings.decision_config())))
            rows.append({k: float(report[k]) for k in KEYS})  # type: ignore[arg-type]
            print(f"{name:<12} answer {answer_weight:<4} lexical {lexical_weight:<5} adapter {adapter:<3} "
                  + "  ".join(f"{k} {report[k]:.3f}" for k in KEYS), flush=True)
        table[name] = rows
    print("\nmean over datasets:")
    for position, (answer_weight, lexical_weight, adapter) in enumerate(grid):
        means = {k: sum(rows[position][k] for rows in table.values()) / len(table) for k in KEYS}
        print(f"answer {answer_weight:<4} lexical {lexical_weight:<5} adapter {adapter:<3} "
              + "  ".join(f"{k} {v:.3f}" for k, v in means.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
