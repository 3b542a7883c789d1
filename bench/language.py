"""How often the reply's language matches the message's: the detector on short citizen-style messages.

Labelled set (public, written by others, never used as kb text): xSID German and English utterances
(the same commands in both languages: alarms, weather, reminders; mostly 3-10 words) and the
Integreat questions (German municipal pages, with their English versions). Dev = xSID valid +
Integreat dev; test = xSID test + Integreat test. On dev the evidence weight and the confidence
threshold are chosen; test is run once. Each message is tried on a page of its own language and on
a page of the other language (the hard case: the fallback is then wrong).

    .venv/bin/python bench/language.py [--json bench/results/conversation/language.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bot.retrieval.language as language  # noqa: E402
from bot.config.settings import get_settings  # noqa: E402
from bot.retrieval.language import LanguageGuesser  # noqa: E402
from bot.retrieval.store import IndexStore  # noqa: E402

SHARED = ROOT.parent / "shared" / "datasets"


def labelled(split: str) -> List[Tuple[str, str]]:
    """(text, language) pairs of one split."""
    pairs: List[Tuple[str, str]] = []
    xsid = "valid" if split == "dev" else "test"
    for lang, key in (("de", "# text = "), ("en", "# text = ")):
        source = (SHARED / "xsid" / f"{'de' if lang == 'de' else 'en'}.{xsid}.conll").read_text(encoding="utf-8")
        pairs += [(line[len(key):].strip(), lang) for line in source.splitlines() if line.startswith(key)]
    for lang in ("de", "en"):
        rows = json.loads((SHARED / "integreat_qa" / f"{split}_{lang}.json").read_text(encoding="utf-8"))
        pairs += [(str(r["question"]).strip(), lang) for r in rows if str(r.get("question", "")).strip()]
    return list(dict.fromkeys(p for p in pairs if p[0]))


def accuracy(guesser: LanguageGuesser, pairs: List[Tuple[str, str]]) -> Dict[str, float]:
    """Reply-language match on a same-language page and on an other-language page, and how often the text decided."""
    other = {"de": "en", "en": "de"}
    same = sum(guesser.detect(text, lang).lang == lang for text, lang in pairs)
    flipped = [guesser.detect(text, other[lang]) for text, lang in pairs]
    matched = sum(g.lang == lang for g, (_, lang) in zip(flipped, pairs, strict=True))
    return {"n": len(pairs), "match_on_own_page": same / len(pairs), "match_on_other_page": matched / len(pairs),
            "confident": sum(g.confident for g in flipped) / len(pairs)}


def main() -> int:
    """Choose on dev, report test once, with the word-evidence-only detector as the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    index = IndexStore(get_settings().index_dir).current()
    live = index.languages
    words_only = LanguageGuesser(live.vocabularies, live.vocabulary, statistical=False, shared=live.shared)
    dev, test = labelled("dev"), labelled("test")
    best, best_score = (language.EVIDENCE_WEIGHT, language.CONFIDENT_AT), -1.0
    for weight, threshold in itertools.product((0.25, 0.5, 1.0, 2.0), (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)):
        with mock.patch.object(language, "EVIDENCE_WEIGHT", weight), mock.patch.object(language, "CONFIDENT_AT",
                                                                                        threshold):
            figures = accuracy(live, dev)
        score = figures["match_on_own_page"] + figures["match_on_other_page"]
        if score > best_score:
            best, best_score = (weight, threshold), score
    report: Dict[str, object] = {"chosen_on_dev": {"evidence_weight": best[0], "confident_at": best[1]},
                                 "shipped": {"evidence_weight": language.EVIDENCE_WEIGHT,
                                             "confident_at": language.CONFIDENT_AT}}
    for name, pairs in (("dev", dev), ("test", test)):
        started = time.perf_counter()
        report[name] = {"shipped": accuracy(live, pairs), "word_evidence_only": accuracy(words_only, pairs)}
        report[name]["ms_per_message"] = round((time.perf_counter() - started) * 1000 / (4 * len(pairs)), 3)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
