"""Measure the editors' "missing topics" grouping (bot.editor.usage.group_questions) on public, externally written data.

Data (never copied into kb/ or data/):

- integreat: /work/shared/datasets/integreat_qa, German questions (LLM-written from Integreat pages, crowd-checked).
  A topic is a page (city, pageId): the questions one page answers, i.e. what one FAQ entry would cover. Each city
  is one batch, grouped on its own (one deployment's unanswered questions); pages with one question stay in as
  distractors. dev = dev_de.json (threshold choice), test = test_de.json (run once).
- clinc: /work/shared/datasets/clinc150 (English), a topic is an intent. Each batch samples 20 intents x 5 queries,
  one batch per seed; dev = "val", test = "test" (other seeds).

Vectors are centred on the mean phrasing vector of the sample kb (kb/) with usage's own ``_centred``, as production
does. Baseline: the same grouping on raw (uncentred) vectors, with its own threshold chosen on dev.

Metrics: pairwise precision / recall / F1 of "same group" against "same topic" (pair counts summed over batches; no
pair joined counts as precision 1); top-10 purity = share of each batch's 10 biggest groups with >= 2 members whose
members are all one topic (singleton groups are trivially pure and are not counted). Thresholds maximise dev F1
(ties: the higher threshold, the more cautious one).

    python bench/topic_grouping.py                              # dev selection, then test once
    python bench/topic_grouping.py --split dev --json /tmp/dev.json
    python bench/topic_grouping.py --split test --threshold 0.46 --raw-threshold 0.89
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.editor.usage import GROUP_THRESHOLD, _centred, group_questions  # noqa: E402
from bot.kb.loader import load_kb  # noqa: E402
from bot.run.progress import progress_printer  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
CENTRED_GRID = [round(0.30 + 0.01 * i, 2) for i in range(41)]  # 0.30 .. 0.70
RAW_GRID = [round(0.70 + 0.01 * i, 2) for i in range(30)]  # 0.70 .. 0.99: raw cosines of e5 sit in a narrow cone
Batch = Tuple[List[str], List[str]]  # question texts and their topic labels, grouped together
Figures = Dict[str, float]


def integreat_batches(split: str) -> List[Batch]:
    """One batch per city of the German split; topic = the page a question was written for."""
    items = json.loads((DATASETS / "integreat_qa" / f"{split}_de.json").read_text(encoding="utf-8"))
    cities: Dict[str, Batch] = defaultdict(lambda: ([], []))
    for item in items:
        texts, labels = cities[item["city"]]
        texts.append(item["question"])
        labels.append(f"{item['city']}:{item['pageId']}")
    return [cities[city] for city in sorted(cities)]


def clinc_batches(split: str, seeds: int, intents: int = 20, per: int = 5) -> List[Batch]:
    """``seeds`` batches of ``intents`` random intents x ``per`` random queries (dev = val, test = test)."""
    data = json.loads((DATASETS / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    by_intent: Dict[str, List[str]] = defaultdict(list)
    for text, intent in data["val" if split == "dev" else "test"]:
        by_intent[intent].append(text)
    batches = []
    for seed in range(seeds):
        rng = random.Random(seed + (0 if split == "dev" else 1000))
        chosen = rng.sample(sorted(by_intent), intents)
        pairs = [(text, intent) for intent in chosen for text in rng.sample(by_intent[intent], per)]
        rng.shuffle(pairs)
        batches.append(([text for text, _ in pairs], [intent for _, intent in pairs]))
    return batches


def embed(encoder: object, batches: Sequence[Batch], label: str) -> List[np.ndarray]:
    """Raw vectors per batch; every distinct text is embedded once."""
    distinct = sorted({text for texts, _ in batches for text in texts})
    report, rows = progress_printer(f"embed {label}"), []
    for start in range(0, len(distinct), 64):
        rows.append(encoder.encode(distinct[start:start + 64]))  # type: ignore[attr-defined]
        report(min(start + 64, len(distinct)), len(distinct))
    table = np.vstack(rows)
    row_of = {text: row for row, text in enumerate(distinct)}
    return [table[[row_of[text] for text in texts]] for texts, _ in batches]


def evaluate(batches: Sequence[Batch], vectors: Sequence[np.ndarray], threshold: float) -> Figures:
    """Pairwise precision, recall, F1 and top-10 purity of the grouping at ``threshold``, over all batches."""
    hit = joined = same = pure = shown = 0
    for (texts, labels), rows in zip(batches, vectors, strict=True):
        same += sum(n * (n - 1) // 2 for n in Counter(labels).values())
        groups = group_questions(texts, rows, threshold=threshold, limit=len(texts))
        for size, members in groups:
            joined += size * (size - 1) // 2
            hit += sum(n * (n - 1) // 2 for n in Counter(labels[i] for i in members).values())
        for _, members in [group for group in groups if group[0] >= 2][:10]:
            shown += 1
            pure += len({labels[i] for i in members}) == 1
    precision = hit / joined if joined else 1.0
    recall = hit / same if same else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": threshold, "precision": round(precision, 4), "recall": round(recall, 4),
            "f1": round(f1, 4), "purity_top10": round(pure / shown, 4) if shown else 1.0, "groups_top10": shown}


def choose(batches: Sequence[Batch], vectors: Sequence[np.ndarray], grid: Sequence[float]) -> Tuple[Figures,
                                                                                                    List[Figures]]:
    """The grid point with the best F1 (ties: the higher threshold), and the whole sweep."""
    sweep = [evaluate(batches, vectors, threshold) for threshold in grid]
    return max(sweep, key=lambda row: (row["f1"], row["threshold"])), sweep


def describe(batches: Sequence[Batch]) -> str:
    """Questions, topics and topics with at least two questions."""
    counts = Counter(label for _, labels in batches for label in labels)
    return (f"{sum(counts.values())} questions in {len(batches)} batches, {len(counts)} topics, "
            f"{sum(n >= 2 for n in counts.values())} with >= 2 questions")


def row(name: str, figures: Figures) -> str:
    """One markdown table row."""
    return (f"| {name} | {figures['threshold']:.2f} | {figures['precision']:.3f} | {figures['recall']:.3f} | "
            f"{figures['f1']:.3f} | {figures['purity_top10']:.3f} ({figures['groups_top10']}) |")


def run_dataset(name: str, loader: object, encoder: object, mean_index: object, split: Optional[str],
                threshold: Optional[float], raw_threshold: Optional[float]) -> Dict[str, object]:
    """Dev selection (unless thresholds are given or only test is asked for), then test once; prints the figures."""
    result: Dict[str, object] = {}
    if split != "test" and (threshold is None or raw_threshold is None or split == "dev"):
        batches = loader("dev")  # type: ignore[operator]
        print(f"\n== {name} dev: {describe(batches)}", flush=True)
        raw = embed(encoder, batches, f"{name} dev")
        centred = [_centred(rows, mean_index, encoder) for rows in raw]  # type: ignore[arg-type]
        best, sweep = choose(batches, centred, CENTRED_GRID)
        raw_best, raw_sweep = choose(batches, raw, RAW_GRID)
        shipped = evaluate(batches, centred, GROUP_THRESHOLD)
        print("| dev | threshold | precision | recall | F1 | top-10 purity (groups) |\n|---|---|---|---|---|---|")
        for label, figures in (("centred, best F1", best), ("centred, shipped", shipped), ("raw, best F1", raw_best)):
            print(row(label, figures))
        result["dev"] = {"describe": describe(batches), "centred_best": best, "centred_shipped": shipped,
                         "raw_best": raw_best, "centred_sweep": sweep, "raw_sweep": raw_sweep}
        threshold = best["threshold"] if threshold is None else threshold
        raw_threshold = raw_best["threshold"] if raw_threshold is None else raw_threshold
    if split == "dev":
        return result
    if threshold is None or raw_threshold is None:
        raise SystemExit("--split test needs --threshold and --raw-threshold (choose them with --split dev)")
    batches = loader("test")  # type: ignore[operator]
    print(f"\n== {name} test (once): {describe(batches)}", flush=True)
    raw = embed(encoder, batches, f"{name} test")
    centred = [_centred(rows, mean_index, encoder) for rows in raw]  # type: ignore[arg-type]
    chosen = evaluate(batches, centred, threshold)
    shipped = evaluate(batches, centred, GROUP_THRESHOLD)
    baseline = evaluate(batches, raw, raw_threshold)
    print("| test | threshold | precision | recall | F1 | top-10 purity (groups) |\n|---|---|---|---|---|---|")
    for label, figures in (("centred, dev-chosen", chosen), ("centred, shipped", shipped),
                           ("raw baseline, dev-chosen", baseline)):
        print(row(label, figures))
    for label, figures in (("dev-chosen", chosen), ("shipped", shipped)):
        ratio = f"{figures['f1'] / baseline['f1']:.2f}x" if baseline["f1"] else "n/a"
        print(f"centred ({label}) vs raw: F1 {ratio}, precision {figures['precision'] - baseline['precision']:+.3f}, "
              f"recall {figures['recall'] - baseline['recall']:+.3f}, "
              f"purity {figures['purity_top10'] - baseline['purity_top10']:+.3f}")
    result["test"] = {"describe": describe(batches), "centred_chosen": chosen, "centred_shipped": shipped,
                      "raw_baseline": baseline}
    return result


def main() -> int:
    """Parse the options, embed the kb's phrasings once, run each dataset, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test"], help="only dev selection, or only test (default: both)")
    parser.add_argument("--threshold", type=float, help="centred threshold for test (default: chosen on dev)")
    parser.add_argument("--raw-threshold", type=float, help="raw baseline threshold for test (default: chosen on dev)")
    parser.add_argument("--datasets", default="integreat,clinc", help="comma-separated: integreat, clinc")
    parser.add_argument("--seeds", type=int, default=30, help="CLINC150 batches (20 intents x 5 queries) per split")
    parser.add_argument("--kb", type=Path, default=ROOT / "kb", help="the kb whose mean phrasing vector centres")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    started = time.perf_counter()
    from bot.config.settings import Settings
    from bot.embedding.encoder import shared_encoder

    encoder = shared_encoder(Settings().model_name, 1)
    phrasings = [text for entry in load_kb(args.kb).entries for text in entry.phrasings]
    print(f"kb {args.kb}: {len(phrasings)} phrasings", file=sys.stderr, flush=True)
    # usage._centred takes the mean of an index's phrasing vectors when the encoder built them; this stand-in
    # holds exactly those vectors, so production's own function centres.
    mean_index = SimpleNamespace(meta={"model": encoder.fingerprint}, records=[],
                                 vectors=encoder.encode(phrasings))
    loaders = {"integreat": integreat_batches, "clinc": lambda split: clinc_batches(split, args.seeds)}
    report: Dict[str, object] = {"shipped_threshold": GROUP_THRESHOLD, "model": Settings().model_name}
    for name in [part.strip() for part in args.datasets.split(",") if part.strip()]:
        report[name] = run_dataset(name, loaders[name], encoder, mean_index, args.split, args.threshold,
                                   args.raw_threshold)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(f"\n{report['seconds']} s", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
