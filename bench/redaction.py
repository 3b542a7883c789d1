"""Recall and precision of the personal-data redaction on the labelled German test set.

Runs :func:`bot.privacy.redact.find_personal_data` over ``tests/data/redaction_de.jsonl``
(written by ``tests/data/make_redaction_set.py``) and prints, per category and overall:

- span recall: gold spans that some predicted span overlaps (whatever its label);
- span precision: predicted spans that overlap some gold span (per predicted label);
- character recall: the share of gold personal characters that end up redacted, which is
  what matters for privacy;
- label agreement: hit gold spans whose overlapping prediction carries the same label.

Then it lists the misses and false alarms, and exits with status 1 if overall span recall is
below 0.95 or span precision below 0.90.

    python bench/redaction.py [--data tests/data/redaction_de.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Set, Tuple

from bot.privacy.redact import Span, find_personal_data

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "redaction_de.jsonl"
MIN_RECALL = 0.95
MIN_PRECISION = 0.90


@dataclass
class Tally:
    """Counts for one category (or all)."""

    gold: int = 0
    hit: int = 0
    same_label: int = 0
    predicted: int = 0
    correct: int = 0
    gold_chars: int = 0
    covered_chars: int = 0

    @property
    def recall(self) -> float:
        return self.hit / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def char_recall(self) -> float:
        return self.covered_chars / self.gold_chars if self.gold_chars else 1.0

    @property
    def label_agreement(self) -> float:
        return self.same_label / self.hit if self.hit else 1.0


@dataclass
class Report:
    """Per-category tallies, the overall tally, and the examples that went wrong."""

    categories: Dict[str, Tally] = field(default_factory=dict)
    overall: Tally = field(default_factory=Tally)
    misses: List[Tuple[str, str, str]] = field(default_factory=list)  # (label, missed text, message)
    false_alarms: List[Tuple[str, str, str]] = field(default_factory=list)  # (label, redacted text, message)


def load(path: Path = DATA) -> List[Tuple[str, List[Span]]]:
    """The labelled messages: text and gold spans."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                rows.append((row["text"], [Span(s["start"], s["end"], s["label"]) for s in row["spans"]]))
    return rows


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def score(rows: Sequence[Tuple[str, List[Span]]]) -> Report:
    """Run the detector over ``rows`` and count."""
    report = Report()
    for text, gold in rows:
        predicted = find_personal_data(text)
        covered: Set[int] = set()
        for span in predicted:
            covered.update(range(span.start, span.end))
        for span in gold:
            for tally in (report.categories.setdefault(span.label, Tally()), report.overall):
                tally.gold += 1
                tally.gold_chars += span.end - span.start
                tally.covered_chars += sum(1 for i in range(span.start, span.end) if i in covered)
                hits = [other for other in predicted if _overlaps(span, other)]
                tally.hit += bool(hits)
                tally.same_label += any(other.label == span.label for other in hits)
            if not any(_overlaps(span, other) for other in predicted):
                report.misses.append((span.label, text[span.start:span.end], text))
        for span in predicted:
            right = any(_overlaps(span, other) for other in gold)
            for tally in (report.categories.setdefault(span.label, Tally()), report.overall):
                tally.predicted += 1
                tally.correct += right
            if not right:
                report.false_alarms.append((span.label, text[span.start:span.end], text))
    return report


def _row(name: str, tally: Tally) -> str:
    return (f"{name:12s} {tally.gold:5d} {tally.recall:8.3f} {tally.char_recall:9.3f} {tally.predicted:6d} "
            f"{tally.precision:9.3f} {tally.label_agreement:7.3f}")


def main(argv: Sequence[str] = ()) -> int:
    """Print the figures; return 1 if recall or precision is below the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(list(argv))
    rows = load(args.data)
    report = score(rows)
    with_data = sum(1 for _, gold in rows if gold)
    print(f"{len(rows)} messages ({with_data} with personal data), {report.overall.gold} gold spans\n")
    print(f"{'category':12s} {'gold':>5s} {'recall':>8s} {'char-rec':>9s} {'pred':>6s} {'precision':>9s} "
          f"{'label=':>7s}")
    for label in sorted(report.categories):
        print(_row(label, report.categories[label]))
    print(_row("OVERALL", report.overall))
    print(f"\nmisses ({len(report.misses)}):")
    for label, missed, text in report.misses:
        print(f"  {label:12s} {missed!r:32s} in {text!r}")
    print(f"false alarms ({len(report.false_alarms)}):")
    for label, redacted, text in report.false_alarms:
        print(f"  {label:12s} {redacted!r:32s} in {text!r}")
    ok = report.overall.recall >= MIN_RECALL and report.overall.precision >= MIN_PRECISION
    print(f"\nrecall {report.overall.recall:.3f} (target >= {MIN_RECALL}), precision {report.overall.precision:.3f} "
          f"(target >= {MIN_PRECISION}): {'OK' if ok else 'BELOW TARGET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
