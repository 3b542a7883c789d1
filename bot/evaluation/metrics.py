"""Retrieval and decision metrics, with bootstrap confidence intervals and AUROC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from bot.decision import ANSWER, CLARIFY, HANDOFF, REPHRASE, SMALLTALK, Decision

REPORT_KEYS = ("top1", "recall_at_3", "mrr_at_10", "answered_correct_rate", "wrong_answer_rate", "clarify_rate",
               "clarify_with_correct_rate", "handoff_rate", "escalation_recall", "auroc", "rephrase_rate",
               "smalltalk_rate_out_of_scope")
ESCALATIONS = (CLARIFY, HANDOFF, REPHRASE)  # what an out-of-scope message should get: never an answer or small talk


@dataclass(frozen=True)
class Outcome:
    """What happened to one message."""

    ranked_ids: Tuple[str, ...]
    confidence: float
    decision: Decision
    expected: Tuple[str, ...]

    @property
    def rank(self) -> Optional[int]:
        """1-based rank of the first correct id, None if absent (or out of scope)."""
        for position, faq_id in enumerate(self.ranked_ids, start=1):
            if faq_id in self.expected:
                return position
        return None


def auroc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """Probability that a random in-scope score exceeds a random out-of-scope one (ties count half)."""
    if not positive or not negative:
        return float("nan")
    pos, neg = np.asarray(positive), np.asarray(negative)
    scores = np.concatenate([pos, neg])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = ranks[: len(pos)].sum()
    return float((rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def bootstrap_ci(values: Sequence[float], rounds: int = 1000, seed: int = 13) -> Tuple[float, float]:
    """95% percentile bootstrap interval of the mean."""
    if not values:
        return (float("nan"), float("nan"))
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(rounds, len(data)))].mean(axis=1)
    return (float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)))


def summarise(outcomes: List[Outcome], with_ci: bool = True) -> Dict[str, object]:
    """All figures of the evaluation report (rates as fractions, see the issue's definitions)."""
    inscope = [o for o in outcomes if o.expected]
    oos = [o for o in outcomes if not o.expected]
    n = len(outcomes) or 1
    top1 = [1.0 if o.rank == 1 else 0.0 for o in inscope]
    r3 = [1.0 if o.rank is not None and o.rank <= 3 else 0.0 for o in inscope]
    mrr = [1.0 / o.rank if o.rank is not None and o.rank <= 10 else 0.0 for o in inscope]

    def answered_right(o: Outcome) -> bool:
        return o.decision.action == ANSWER and o.decision.faq_id in o.expected

    wrong = [o for o in outcomes if o.decision.action == ANSWER and o.decision.faq_id not in o.expected]
    clarify = [o for o in outcomes if o.decision.action == CLARIFY]
    clarify_ok = [o for o in clarify if any(c.faq_id in o.expected for c in o.decision.choices)]
    report: Dict[str, object] = {
        "n": len(outcomes),
        "n_in_scope": len(inscope),
        "n_out_of_scope": len(oos),
        "top1": _mean(top1),
        "recall_at_3": _mean(r3),
        "mrr_at_10": _mean(mrr),
        "answered_correct_rate": _mean([1.0 if answered_right(o) else 0.0 for o in inscope]),
        "wrong_answer_rate": len(wrong) / n,
        "clarify_rate": len(clarify) / n,
        "clarify_with_correct_rate": len(clarify_ok) / n,
        "handoff_rate": sum(o.decision.action == HANDOFF for o in outcomes) / n,
        "escalation_recall": _mean([1.0 if o.decision.action in ESCALATIONS else 0.0 for o in oos]),
        "auroc": auroc([o.confidence for o in inscope], [o.confidence for o in oos]),
        "rephrase_rate": sum(o.decision.action == REPHRASE for o in outcomes) / n,
        "smalltalk_rate_out_of_scope": _mean([1.0 if o.decision.action == SMALLTALK else 0.0 for o in oos]),
    }
    if with_ci:
        report["ci95"] = {"top1": bootstrap_ci(top1), "recall_at_3": bootstrap_ci(r3), "mrr_at_10": bootstrap_ci(mrr)}
    return report


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else float("nan")
