"""Issue 18, item 5: does the bot learn from handoffs? Replay a benchmark's test questions in order.

The in-scope test questions are split by their order into "earlier" questions (handed to agents, who link the
entry that answers them) and "later" ones, two ways: ``interleaved`` (per entry, the first half of its questions
is earlier: a stream in which each topic comes back) and ``file`` (the first half of the file; the benchmarks'
files are sorted by entry, so the later half then asks about entries nobody linked). The later set (plus the later
half of the out-of-scope messages) is measured with the shipped thresholds; then every earlier question is added
as a phrasing of its expected entry, as the editors' Accept button does (the same
:func:`bot.suggestions.kb_file.add_phrasing`, in a temporary copy of the kb), the index is rebuilt and published
with the project's own build (:func:`bot.publish.build.build_and_publish`: the kb adapter trains only when
entries have phrasings besides the title) and the later set is measured again.

    python bench/replay.py            # sample kb, its titles-only copy, the three Integreat cities
    python bench/replay.py sample integreat-muenchen        # a selection

Writes ``bench/results/learning/replay.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.calibration import thresholds_for  # noqa: E402
from bot.config.settings import PROJECT_ROOT, get_settings  # noqa: E402
from bot.decision import IntentExamples  # noqa: E402
from bot.evaluation.dataset import Example, load_examples  # noqa: E402
from bot.evaluation.metrics import summarise  # noqa: E402
from bot.evaluation.report import MemoEncoder  # noqa: E402
from bot.evaluation.runner import decide_all, rank_all  # noqa: E402
from bot.kb.loader import load_kb  # noqa: E402
from bot.publish.build import build_and_publish  # noqa: E402
from bot.retrieval.assembly import query_encoder  # noqa: E402
from bot.retrieval.searcher import FaqSearcher  # noqa: E402
from bot.retrieval.store import IndexStore  # noqa: E402
from bot.suggestions.kb_file import PhrasingError, add_phrasing  # noqa: E402

RESULTS = ROOT / "bench" / "results"
WORK = ROOT / ".auskunft" / "bench-data"
CITIES = ("lkaugsburg", "muenchen", "rems-murr-kreis")
MODES = ("interleaved", "file")
KEYS = ("top1", "recall_at_3", "answered_correct_rate", "wrong_answer_rate", "clarify_rate", "escalation_recall")


def benchmarks() -> Dict[str, Tuple[Path, Path]]:
    """name -> (kb directory, labelled test file); Integreat is converted on first use (as bench/external.py)."""
    test = ROOT / "tests" / "data" / "sample_kb_test.jsonl"
    found = {"sample": (ROOT / "kb", test), "sample-titles": (WORK / "sample-titles" / "kb", test)}
    for city in CITIES:
        data = WORK / "integreat" / city
        found[f"integreat-{city}"] = (data / "kb", data / "test.jsonl")
    return found


def ensure(name: str, kb_dir: Path, test_file: Path) -> None:
    """Convert the Integreat dataset, or make the titles-only copy of the sample kb, if not there yet."""
    if name == "sample-titles" and not kb_dir.is_dir():
        subprocess.run([sys.executable, str(ROOT / "bench/datasets/titles_only.py"), str(ROOT / "kb"), str(kb_dir)],
                       check=True, stdout=subprocess.DEVNULL)
    if name.startswith("integreat-") and not test_file.is_file():
        subprocess.run([sys.executable, str(ROOT / "bench/datasets/integreat.py"), "--out", str(WORK / "integreat")],
                       check=True, stdout=subprocess.DEVNULL)


def split(examples: Sequence[Example], mode: str) -> Tuple[List[Example], List[Example]]:
    """(earlier in-scope questions, later messages); out-of-scope messages: their second half, only in the later set.

    ``file``: the first half of the in-scope questions in file order is earlier. ``interleaved``: per expected
    entry, the first half of its questions (in file order) is earlier, as in a stream where each topic recurs;
    the benchmarks' files are sorted by entry, so in file order the later half asks about other entries.
    """
    inside = [e for e in examples if e.in_scope]
    outside = [e for e in examples if not e.in_scope]
    if mode == "file":
        earlier = inside[: len(inside) // 2]
    else:
        by_entry: Dict[str, List[Example]] = {}
        for example in inside:
            by_entry.setdefault(example.expected[0], []).append(example)
        chosen = {id(e) for group in by_entry.values() for e in group[: len(group) // 2]}
        earlier = [e for e in inside if id(e) in chosen]
    taken = {id(e) for e in earlier}
    return earlier, [e for e in inside if id(e) not in taken] + outside[len(outside) // 2:]


def learn(kb_dir: Path, earlier: Sequence[Example]) -> Dict[str, int]:
    """Add each earlier question to its first expected entry's file, as the editors' Accept does."""
    paths = {entry.id: kb_dir / entry.path for entry in load_kb(kb_dir).entries}
    counts = {"added": 0, "already_there": 0, "refused": 0}
    for example in earlier:
        try:
            edit = add_phrasing(paths[example.expected[0]], example.text, kb_dir)
        except (PhrasingError, KeyError):
            counts["refused"] += 1
            continue
        counts["added" if edit.added else "already_there"] += 1
    return counts


def measure(kb_dir: Path, work: Path, sets: Dict[str, Sequence[Example]], encoder: MemoEncoder,
            intents: IntentExamples) -> Tuple[Dict[str, Dict[str, object]], Dict[str, object]]:
    """Build and publish the kb's index (the project's build), then the figures on each set; and the index meta.

    Each set is decided with the thresholds the bot uses on that index (its calibration unless thresholds are
    fixed) and, as ``<set>/fixed``, with the configured thresholds.
    """
    settings = get_settings()
    index_dir = work / "index"
    shutil.rmtree(index_dir, ignore_errors=True)
    build_and_publish(kb_dir, index_dir, settings.cache_dir, encoder)
    searcher = FaqSearcher(encoder, store=IndexStore(index_dir), default_language=settings.default_language)
    index = searcher.index()
    reports: Dict[str, Dict[str, object]] = {}
    shipped, fixed = thresholds_for(settings, index.meta), settings.decision_config()
    for name, examples in sets.items():
        if not examples:
            continue
        ranked = rank_all(searcher, examples, intents=intents)
        for label, config in ((name, shipped), (f"{name}/fixed", fixed)):
            reports[label] = summarise(decide_all(ranked, config, index, settings.withdraw_overdue))
    return reports, dict(index.meta)


def replay(name: str, kb_dir: Path, test_file: Path, encoder: MemoEncoder,
           intents: IntentExamples) -> Dict[str, Dict[str, object]]:
    """Per split mode: the later set before and after learning the earlier questions; returns the figures."""
    examples = load_examples(test_file)
    splits = {mode: split(examples, mode) for mode in MODES}
    results: Dict[str, Dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix=f"auskunft-replay-{name}-") as tmp:
        work = Path(tmp)
        shutil.copytree(kb_dir, work / "kb")
        sets: Dict[str, Sequence[Example]] = {}
        for mode, (earlier, later) in splits.items():
            taught = {e.expected[0] for e in earlier}
            sets[mode] = later
            sets[f"{mode}/learned"] = [e for e in later if e.in_scope and e.expected[0] in taught]
        before, meta_before = measure(work / "kb", work, sets, encoder, intents)
        for mode, (earlier, later) in splits.items():
            started = time.perf_counter()
            shutil.rmtree(work / "kb")
            shutil.copytree(kb_dir, work / "kb")
            counts = learn(work / "kb", earlier)
            after, meta_after = measure(work / "kb", work, {k: v for k, v in sets.items() if k.startswith(mode)},
                                        encoder, intents)
            taught = {e.expected[0] for e in earlier}
            results[f"{name} ({mode})"] = {
                "split": mode, "earlier": len(earlier), "later_in_scope": sum(e.in_scope for e in later),
                "later_out_of_scope": sum(not e.in_scope for e in later),
                "later_whose_entry_learned": sum(e.in_scope and e.expected[0] in taught for e in later),
                "learned": counts, "adapter_before": meta_before.get("adapter"),
                "adapter_after": meta_after.get("adapter"),
                "before": {k: before[mode][k] for k in KEYS}, "after": {k: after[mode][k] for k in KEYS},
                "fixed_thresholds": {"before": {k: before[f"{mode}/fixed"][k] for k in KEYS},
                                     "after": {k: after[f"{mode}/fixed"][k] for k in KEYS}},
                "learned_entries_top1": {"before": before.get(f"{mode}/learned", {}).get("top1"),
                                         "after": after.get(f"{mode}/learned", {}).get("top1")},
                "thresholds_after": meta_after.get("calibration"),
                "ci95_before": before[mode].get("ci95"), "ci95_after": after[mode].get("ci95"),
                "seconds_after": round(time.perf_counter() - started, 1)}
    return results


def table(results: Dict[str, Dict[str, object]]) -> str:
    """A markdown table: the later half's figures before and after learning the earlier half."""
    lines = ["| benchmark (split) | earlier → phrasings added | later in scope (entry learned) / out of scope | "
             "top-1 before → after | top-1 of those whose entry learned | answered correctly before → after | "
             "wrong answers before → after | escalation recall before → after |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        b, a, learned = r["before"], r["after"], r["learned"]
        pairs = [f"{b[k]:.3f} → {a[k]:.3f}" for k in  # type: ignore[index]
                 ("top1", "answered_correct_rate", "wrong_answer_rate", "escalation_recall")]
        own = r["learned_entries_top1"]
        pairs.insert(1, "–" if own["before"] is None else  # type: ignore[index]
                     f"{own['before']:.3f} → {own['after']:.3f}")  # type: ignore[index]
        lines.append(f"| {name} | {r['earlier']} → {learned['added']} | {r['later_in_scope']} "  # type: ignore[index]
                     f"({r['later_whose_entry_learned']}) / {r['later_out_of_scope']} | " + " | ".join(pairs) + " |")
    return "\n".join(lines)


def main() -> int:
    known = benchmarks()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks (default: all of {', '.join(known)})")
    parser.add_argument("--json", type=Path, default=RESULTS / "learning" / "replay.json")
    parser.add_argument("--no-adapter", action="store_true",
                        help="diagnosis: build every index without the kb adapter (results named '..., no adapter')")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(known))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    if args.no_adapter:  # the build as shipped, but with the adapter off: separates its effect from the phrasings'
        import functools

        import bot.publish.build

        bot.publish.build.build_index = functools.partial(bot.publish.build.build_index, adapter=None)  # type: ignore
    settings = get_settings()
    encoder = MemoEncoder(query_encoder(settings))
    intents = IntentExamples.from_nlu_file(PROJECT_ROOT / "data" / "nlu.yml", encoder.encode)
    results: Dict[str, Dict[str, object]] = {}
    for name in args.names or list(known):
        kb_dir, test_file = known[name]
        ensure(name, kb_dir, test_file)
        print(f"== {name}: {kb_dir} with {test_file}", flush=True)
        for key, figures in replay(name, kb_dir, test_file, encoder, intents).items():
            key = key.replace(")", ", no adapter)") if args.no_adapter else key
            results[key] = figures
            print(key, json.dumps(figures["learned"]), figures["before"], "->", figures["after"], flush=True)
        previous = json.loads(args.json.read_text(encoding="utf-8")) if args.json.is_file() else {}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({**previous, **results}, indent=2), encoding="utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
