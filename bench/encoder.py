"""The serving encoder against sentence-transformers: quality on the public benchmarks, speed, memory.

Runs ``auskunft eval``'s evaluation (thresholds from each dev split, the test split once) with
three encoders of the same provisioned model, in this one process:

- ``sentence-transformers`` (torch, the reference and the fine-tuning tool),
- ``onnx`` (the fp32 graph in ONNX Runtime: what the bot serves),
- ``onnx-int8`` (dynamically quantised copy),

and reports top-1, answered-correctly and wrong-answer rates per benchmark, the largest top-1
difference to the reference, plus single-query latency (p50/p95, one thread) and batch throughput.
No embedding cache is used, so every vector comes from the encoder under test.

    python bench/encoder.py [--benchmarks sample,clinc10,integreat-muenchen] [--json bench/results/serving/encoder.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.external import _benchmarks  # noqa: E402
from bot.config.settings import Settings  # noqa: E402
from bot.embedding.encoder import BACKENDS, load_encoder  # noqa: E402
from bot.evaluation.report import evaluate  # noqa: E402

QUERIES = ["Wie beantrage ich einen neuen Personalausweis?", "Where can I register my dog?", "hallo",
           "Öffnungszeiten des Bürgeramts am Samstag", "Ich möchte mein Auto ummelden, was brauche ich dafür?"]


def datasets(names: List[str]) -> Dict[str, Tuple[Path, Path, Path]]:
    """name -> (kb dir, test file, dev file); public benchmarks are converted on first use."""
    found: Dict[str, Tuple[Path, Path, Path]] = {}
    known = _benchmarks()
    for name in names:
        if name == "sample":
            data = ROOT / "tests" / "data"
            found[name] = (ROOT / "kb", data / "sample_kb_test.jsonl", data / "sample_kb_dev.jsonl")
            continue
        convert, data = known[name]
        if not (data / "test.jsonl").is_file():
            subprocess.run(convert, check=True, stdout=subprocess.DEVNULL)
        found[name] = (data / "kb", data / "test.jsonl", data / "dev.jsonl")
    return found


def speed(encoder: object) -> Dict[str, float]:
    """Single-query latency (ms, after warm-up) and texts per second in batches of 32."""
    for text in QUERIES:
        encoder.encode_one(text)  # type: ignore[attr-defined]
    times = []
    for _ in range(20):
        for text in QUERIES:
            started = time.perf_counter()
            encoder.encode_one(text)  # type: ignore[attr-defined]
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    batch = QUERIES * 32
    started = time.perf_counter()
    encoder.encode(batch)  # type: ignore[attr-defined]
    return {"query_p50_ms": round(statistics.median(times), 2), "query_p95_ms": round(times[int(0.95 * len(times))], 2),
            "batch_texts_per_s": round(len(batch) / (time.perf_counter() - started), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", default="sample,clinc10,integreat-muenchen,integreat-lkaugsburg,"
                        "integreat-rems-murr-kreis")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--json", default=str(ROOT / "bench/results/serving/encoder.json"))
    args = parser.parse_args()
    settings = Settings()
    backends = args.backends.split(",")
    data = datasets(args.benchmarks.split(","))
    results: Dict[str, Dict[str, object]] = {}
    for backend in backends:
        encoder = load_encoder(settings.model_name, threads=1, backend=backend)
        figures: Dict[str, object] = {"speed": speed(encoder)}
        for name, (kb, test, dev) in data.items():
            print(f"== {backend} on {name}", flush=True)
            report, _ranked, _config = evaluate(kb, test, encoder, settings.decision_config(),
                                                dev_file=dev if dev.is_file() else None, baselines=[])
            figures[name] = {key: report[key] for key in ("top1", "answered_correct_rate", "wrong_answer_rate",
                                                          "escalation_recall")}
        results[backend] = figures
        del encoder
    reference = results.get("sentence-transformers")
    print(f"\n| encoder | {' | '.join(data)} | query p50 ms | query p95 ms | batch texts/s |")
    print("|---" * (len(data) + 4) + "|")
    for backend, figures in results.items():
        cells = []
        for name in data:
            top1 = figures[name]["top1"]  # type: ignore[index]
            delta = "" if reference is None or backend == "sentence-transformers" else \
                f" ({top1 - reference[name]['top1']:+.3f})"  # type: ignore[index]
            cells.append(f"{top1:.3f}{delta}")
        s = figures["speed"]
        print(f"| {backend} | {' | '.join(cells)} | {s['query_p50_ms']} | {s['query_p95_ms']} | "  # type: ignore[index]
              f"{s['batch_texts_per_s']} |")  # type: ignore[index]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    payload = {"results": results, "cpus": os.cpu_count(), "machine": platform.machine(),
               "date": time.strftime("%Y-%m-%d"), "commit": commit.strip()}
    Path(args.json).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
