"""Choose the small-talk floor and margin on dev data, then report test once.

Small talk must reach greetings, thanks, "I want a person" and the like, and nothing else:
off-topic questions, nonsense and FAQ questions go to the FAQ decision (or "please rephrase").
Dev: tests/data/sample_kb_dev.jsonl (FAQ and out-of-scope) + tests/data/smalltalk_dev.jsonl, plus public
data written by others: CLINC150 val (its greeting/thanks/goodbye/bot/yes/no intents as small talk, every
other intent and oos_val as must-not) and xSID German valid (must-not); test: the matching test splits.
Prints both tables and the chosen values.

    .venv/bin/python bench/routing.py [--json bench/results/conversation/routing.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config.settings import get_settings  # noqa: E402
from bot.decision import DecisionConfig, IntentExamples  # noqa: E402
from bot.evaluation.dataset import Example, load_examples  # noqa: E402
from bot.evaluation.runner import rank_all  # noqa: E402
from bot.retrieval.searcher import FaqSearcher  # noqa: E402
from bot.retrieval.store import IndexStore  # noqa: E402

DATA = ROOT / "tests" / "data"
SHARED = ROOT.parent / "shared" / "datasets"
# CLINC150 intents that are this bot's small talk; every other CLINC message (other intents, out-of-scope)
# and every xSID German message (alarms, weather, reminders, ...) must NOT get small talk.
CLINC_SMALLTALK = {"greeting": "greet", "goodbye": "goodbye", "thank_you": "thanks", "are_you_a_bot": "bot_challenge",
                   "yes": "affirm", "no": "deny"}
PUBLIC_SAMPLE = 300  # messages per public source and split (every k-th, deterministic)
PENALTY = 3.0  # small talk given to a question or to nonsense costs three times a missed greeting


def load_smalltalk(path: Path) -> List[Tuple[Example, str]]:
    """Labelled conversational messages: (example, intent)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(Example(r["text"], (), r.get("lang")), str(r["intent"])) for r in rows]


def every_kth(items: List, n: int) -> List:
    """About ``n`` items spread over the list (deterministic)."""
    step = max(1, len(items) // n)
    return items[::step][:n]


def public_sets(split: str) -> Tuple[List[Example], List[Tuple[Example, str]]]:
    """Questions that must not get small talk, and small talk with its intent, from CLINC150 and xSID.

    Args:
        split: ``dev`` (CLINC val + oos_val, xSID de.valid) or ``test`` (CLINC test + oos_test, xSID de.test).
    """
    clinc = json.loads((SHARED / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    part, oos = ("val", "oos_val") if split == "dev" else ("test", "oos_test")
    talk = [(Example(t, (), "en"), CLINC_SMALLTALK[i]) for t, i in clinc[part] if i in CLINC_SMALLTALK]
    others = [Example(t, (), "en") for t, i in clinc[part] if i not in CLINC_SMALLTALK]
    xsid = (SHARED / "xsid" / f"de.{'valid' if split == 'dev' else 'test'}.conll").read_text(encoding="utf-8")
    german = [Example(line[len("# text = "):], (), "de") for line in xsid.splitlines() if line.startswith("# text = ")]
    negatives = (every_kth(others, PUBLIC_SAMPLE) + every_kth([Example(t, (), "en") for t, _ in clinc[oos]],
                                                               PUBLIC_SAMPLE) + every_kth(german, PUBLIC_SAMPLE))
    return negatives, talk


def figures(ranked_faq: Sequence[Tuple[Example, object]], ranked_talk: Sequence[Tuple[Example, object]],
            intents: Sequence[str], config: DecisionConfig) -> Dict[str, float]:
    """Routing outcomes at ``config``: small talk where it belongs, nowhere else."""
    def routed(example: Example) -> str:
        assert example.signals is not None
        return example.signals.route(example.text, config).intent

    faq_routes = [(e, routed(e)) for e, _ in ranked_faq]
    inscope = [r for e, r in faq_routes if e.expected]
    oos = [r for e, r in faq_routes if not e.expected]
    talk = [routed(e) == want for (e, _), want in zip(ranked_talk, intents, strict=True)]
    conversational = {"greet", "goodbye", "thanks", "bot_challenge", "affirm", "deny", "ask_human"}
    return {
        "smalltalk_recall": sum(talk) / len(talk),
        "in_scope_to_smalltalk": sum(r in conversational for r in inscope) / max(1, len(inscope)),
        "out_of_scope_to_smalltalk": sum(r in conversational for r in oos) / max(1, len(oos)),
        "out_of_scope_not_understood": sum(r == "not_understood" for r in oos) / max(1, len(oos)),
    }


def plateau_centre(scores: Dict[Tuple[float, float], float]) -> Tuple[float, float]:
    """The middle of the best-scoring (floor, margin) settings: the median margin, then the median floor at it.

    Dev sets are small, so many settings tie; the middle of the tie generalises better than its edge.
    """
    top = max(scores.values())
    tied = sorted(key for key, value in scores.items() if value >= top - 1e-9)
    margins = sorted({m for _, m in tied})
    margin = margins[(len(margins) - 1) // 2]
    floors = sorted(f for f, m in tied if m == margin)
    return floors[(len(floors) - 1) // 2], margin


def main() -> int:
    """Sweep on dev, report test once."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    settings = get_settings()
    from bot.embedding.encoder import shared_encoder

    searcher = FaqSearcher(shared_encoder(settings.model_name, settings.encoder_threads),
                           store=IndexStore(settings.index_dir), default_language=settings.default_language,
                           load_encoder=lambda m: shared_encoder(m, settings.encoder_threads))
    encoder = searcher.encoder_for(searcher.index())
    intents = IntentExamples.from_nlu_file(ROOT / "data" / "nlu.yml", encoder.encode)  # type: ignore[attr-defined]
    split: Dict[str, Tuple[list, list, List[str]]] = {}
    for name in ("dev", "test"):
        negatives, public_talk = public_sets(name)
        sample = rank_all(searcher, load_examples(DATA / f"sample_kb_{name}.jsonl"), intents=intents)
        faq = sample + rank_all(searcher, negatives, intents=intents)
        own_talk = load_smalltalk(DATA / f"smalltalk_{name}.jsonl")
        own = rank_all(searcher, [e for e, _ in own_talk], intents=intents)
        public = rank_all(searcher, [e for e, _ in public_talk], intents=intents)
        split[name] = (faq, own + public, [i for _, i in own_talk + public_talk])
        split[f"{name} (sample kb and its small-talk set only)"] = (sample, own, [i for _, i in own_talk])
    base = settings.decision_config()
    scores: Dict[Tuple[float, float], float] = {}
    grid = [round(0.80 + 0.005 * i, 3) for i in range(37)]
    for floor, margin in itertools.product(grid, (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06)):
        f = figures(*split["dev"], replace(base, smalltalk_floor=floor, smalltalk_margin=margin))
        scores[(floor, margin)] = f["smalltalk_recall"] - PENALTY * (f["in_scope_to_smalltalk"]
                                                                     + f["out_of_scope_to_smalltalk"])
    best = replace(base, **dict(zip(("smalltalk_floor", "smalltalk_margin"), plateau_centre(scores), strict=True)))
    report = {"chosen_on_dev": {"smalltalk_floor": best.smalltalk_floor, "smalltalk_margin": best.smalltalk_margin},
              "shipped": {"smalltalk_floor": base.smalltalk_floor, "smalltalk_margin": base.smalltalk_margin}}
    before = replace(base, smalltalk_floor=0.0, smalltalk_margin=0.0)  # the routing before the floor
    for name in split:
        report[name] = {"chosen": figures(*split[name], best), "shipped": figures(*split[name], base),
                        "no_floor": figures(*split[name], before)}
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
