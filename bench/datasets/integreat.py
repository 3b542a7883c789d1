"""Convert the Integreat German municipal QA dataset into one kb + dev/test JSONL per city.

Every page of a city becomes an FAQ entry: its first line is the title (the only
phrasing), the page text is the answer (cut to the kb's 3,000-character limit).
Questions that a page answers are in scope for that page; questions marked
unanswerable are out of scope. Dev = the dataset's dev split, test = its test split;
questions are never used as phrasings.

    python bench/datasets/integreat.py --out /tmp/integreat
    .venv/bin/auskunft eval /tmp/integreat/muenchen/kb /tmp/integreat/muenchen/test.jsonl \\
        --dev /tmp/integreat/muenchen/dev.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

DEFAULT_SOURCE = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "integreat_qa"
MAX_ANSWER = 2900


def entry_id(page_id: int) -> str:
    """A kb id for an Integreat page."""
    return f"page-{page_id}"


def convert(source: Path, out: Path, language: str = "de") -> Dict[str, Dict[str, int]]:
    """Write ``out/<city>/kb``, ``dev.jsonl`` and ``test.jsonl``; returns counts per city."""
    splits = {name: json.loads((source / f"{name}_{language}.json").read_text(encoding="utf-8"))
              for name in ("train", "dev", "test")}
    pages: Dict[str, Dict[int, str]] = defaultdict(dict)
    for items in splits.values():
        for item in items:
            pages[item["city"]][item["pageId"]] = item["context"]
    counts: Dict[str, Dict[str, int]] = {}
    for city, city_pages in sorted(pages.items()):
        kb = out / city / "kb"
        kb.mkdir(parents=True, exist_ok=True)
        for page_id, context in city_pages.items():
            lines = [line.strip() for line in context.split("\n") if line.strip()]
            title, body = lines[0][:190], "\n\n".join(lines[1:]) or lines[0]
            (kb / f"{entry_id(page_id)}.md").write_text(
                f"---\nid: {entry_id(page_id)}\ntitle: {json.dumps(title, ensure_ascii=False)}\nlang: {language}\n"
                f"tags: [integreat]\nsource: https://integreat.app/{city}\nowner: Integreat {city}\n"
                f"updated: 2024-01-01\n---\n{body[:MAX_ANSWER]}\n",
                encoding="utf-8",
            )
        counts[city] = {"entries": len(city_pages)}
        for name in ("dev", "test"):
            rows: List[Dict[str, object]] = [
                {"text": item["question"], "expected": [entry_id(item["pageId"])] if item["answers"] else [],
                 "lang": language}
                for item in splits[name] if item["city"] == city
            ]
            (out / city / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                                              for r in rows), encoding="utf-8")
            counts[city][name] = len(rows)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--language", default="de", choices=["de", "en"])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(json.dumps(convert(args.source, args.out, args.language), indent=2))


if __name__ == "__main__":
    main()
