"""Convert CLINC150 (Larson et al. 2019) into a kb directory plus dev/test JSONL for `auskunft eval`.

Each intent becomes one FAQ entry whose phrasings are its first N training utterances
(title = the first). Dev = the validation split + oos_val; test = the test split + oos_test
(4,500 in scope + 1,000 out of scope). Test messages never become phrasings.

    python bench/datasets/clinc150.py --phrasings 10 --out /tmp/clinc10
    .venv/bin/auskunft eval /tmp/clinc10/kb /tmp/clinc10/test.jsonl --dev /tmp/clinc10/dev.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

DEFAULT_SOURCE = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "clinc150" / "data_full.json"


def entry_id(intent: str) -> str:
    """A kb id for a CLINC intent name."""
    return "clinc-" + intent.replace("_", "-")


def convert(source: Path, out: Path, phrasings: int) -> Dict[str, int]:
    """Write ``out/kb``, ``out/dev.jsonl`` and ``out/test.jsonl``; returns counts."""
    data = json.loads(source.read_text(encoding="utf-8"))
    by_intent: Dict[str, List[str]] = defaultdict(list)
    for text, intent in data["train"]:
        by_intent[intent].append(text)
    kb = out / "kb"
    kb.mkdir(parents=True, exist_ok=True)
    for intent, texts in sorted(by_intent.items()):
        chosen = texts[:phrasings]
        questions = "".join(f"  - {json.dumps(t)}\n" for t in chosen[1:])
        (kb / f"{entry_id(intent)}.md").write_text(
            f"---\nid: {entry_id(intent)}\ntitle: {json.dumps(chosen[0])}\nquestions:\n{questions}lang: en\n"
            f"tags: [clinc150]\nsource: https://github.com/clinc/oos-eval\nowner: CLINC150\n"
            f"updated: 2019-11-01\n---\nAnswer for the intent '{intent.replace('_', ' ')}'.\n",
            encoding="utf-8",
        )

    def write(name: str, inscope: str, oos: str) -> int:
        rows = [{"text": t, "expected": [entry_id(i)], "lang": "en"} for t, i in data[inscope]]
        rows += [{"text": t, "expected": [], "lang": "en"} for t, _ in data[oos]]
        (out / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return len(rows)

    return {"entries": len(by_intent), "dev": write("dev.jsonl", "val", "oos_val"),
            "test": write("test.jsonl", "test", "oos_test")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--phrasings", type=int, default=10, help="training utterances per intent (5, 10, 100)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(convert(args.source, args.out, args.phrasings))


if __name__ == "__main__":
    main()
