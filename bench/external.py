"""Issue 3's benchmark table: convert the public datasets, run ``auskunft eval`` on each, print the figures.

Thresholds are tuned on each benchmark's dev split, then the test split is run once.
Results go to ``bench/results/<name>.json`` (plus plots); the table compares the bot with
each baseline and states the top-1 ratio against BM25 (site search).

    python bench/external.py                       # all benchmarks
    python bench/external.py clinc10 integreat     # a selection
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORK = ROOT / ".auskunft" / "bench-data"
PYTHON = sys.executable
CITIES = ("lkaugsburg", "muenchen", "rems-murr-kreis")
TOO_SLOW = {"clinc100": "response_selector"}  # 15,000 examples: 35-95 s per epoch, 100 epochs, on 2 cores
TARGETS = {"clinc100": (0.95, 0.70), "clinc10": (0.88, 0.60)}


def _benchmarks() -> Dict[str, Tuple[List[str], Path]]:
    """name -> (converter command, dataset directory)."""
    found: Dict[str, Tuple[List[str], Path]] = {}
    for n in (5, 10, 100):
        out = WORK / f"clinc{n}"
        found[f"clinc{n}"] = ([PYTHON, str(ROOT / "bench/datasets/clinc150.py"), "--phrasings", str(n),
                               "--out", str(out)], out)
    integreat = WORK / "integreat"
    for city in CITIES:
        found[f"integreat-{city}"] = ([PYTHON, str(ROOT / "bench/datasets/integreat.py"), "--out", str(integreat)],
                                      integreat / city)
    return found


def run(name: str, convert: List[str], data: Path, baselines: str) -> Dict[str, object]:
    """Convert (if needed) and evaluate one benchmark; returns the report."""
    if not (data / "test.jsonl").is_file():
        subprocess.run(convert, check=True, stdout=subprocess.DEVNULL)
    out = RESULTS / f"{name}.json"
    command = [str(Path(PYTHON).with_name("auskunft")), "eval", str(data / "kb"), str(data / "test.jsonl"),
               "--dev", str(data / "dev.jsonl"), "--json", str(out), "--plots", str(RESULTS / name),
               "--baselines", baselines]
    print(f"\n== {name}: {' '.join(command[1:])}", flush=True)
    started = time.perf_counter()
    subprocess.run(command, check=True)
    report = json.loads(out.read_text(encoding="utf-8"))
    report["seconds"] = round(time.perf_counter() - started, 1)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


def table(reports: Dict[str, Dict[str, object]]) -> str:
    """A markdown table: bot and baselines, answered-correct / wrong / escalation recall / top-1."""
    lines = ["| benchmark | system | top-1 | answered correctly | wrong answers | escalation recall | AUROC "
             "| bot's wrong answers at this answered-correctly rate |",
             "|---|---|---|---|---|---|---|---|"]
    for name, report in reports.items():
        systems = {"bot": report, **report["baselines"]}  # type: ignore[dict-item]
        matched = report.get("bot_at_baseline_answered", {})
        for system, figures in systems.items():
            at = matched.get(system) if system != "bot" else None  # type: ignore[attr-defined]
            compare = "" if system == "bot" or not matched else (
                f"{at['wrong_answer_rate']:.3f}" if at else "not reached")
            lines.append(f"| {name} | {system} | {figures['top1']:.3f} | {figures['answered_correct_rate']:.3f} | "
                         f"{figures['wrong_answer_rate']:.3f} | {figures['escalation_recall']:.3f} | "
                         f"{figures['auroc']:.3f} | {compare} |")
        bm25 = report["baselines"].get("bm25")  # type: ignore[attr-defined]
        if bm25 and bm25["top1"]:
            lines.append(f"| {name} | top-1 bot / BM25 | {report['top1'] / bm25['top1']:.2f}x | | | | | |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    known = _benchmarks()
    parser.add_argument("names", nargs="*", help=f"benchmarks ({', '.join(known)}); 'integreat' = all cities")
    parser.add_argument("--baselines", default="bm25,cosine,response_selector")
    parser.add_argument("--all-baselines", action="store_true", help="also baselines that take hours here")
    parser.add_argument("--table-only", action="store_true", help="print the table from earlier results")
    args = parser.parse_args()
    chosen = [n for n in known if not args.names or n in args.names
              or (n.startswith("integreat-") and "integreat" in args.names)]
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.table_only:
        reports = {n: json.loads((RESULTS / f"{n}.json").read_text(encoding="utf-8"))
                   for n in chosen if (RESULTS / f"{n}.json").is_file()}
    else:
        reports = {}
        for name in chosen:
            baselines = args.baselines
            if name in TOO_SLOW and not args.all_baselines:
                baselines = ",".join(b for b in baselines.split(",") if b != TOO_SLOW[name])
                print(f"{name}: leaving out {TOO_SLOW[name]} (over two hours to train here; --all-baselines runs it)")
            reports[name] = run(name, *known[name], baselines)
    print("\n" + table(reports))
    for name, (answered, escalated) in TARGETS.items():
        if name in reports:
            r = reports[name]
            met = r["answered_correct_rate"] >= answered and r["escalation_recall"] >= escalated  # type: ignore[operator]
            print(f"{name} target (answered correctly >= {answered}, escalation recall >= {escalated}): "
                  f"{'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
