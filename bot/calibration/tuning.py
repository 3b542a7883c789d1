"""Choose the answer/clarify thresholds and the margin from probes, weighing outcomes as citizens would."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Dict, Iterable, Mapping, Sequence

import numpy as np

from bot.calibration.probes import KNOWN, NEIGHBOUR, OFFTOPIC, Probe
from bot.config.decision import DecisionConfig
from bot.decision import FAQ_INTENT, ConversationState, decide_turn
from bot.decision.lifecycle import AnyEntry
from bot.decision.policy import ANSWER, CLARIFY

MARGINS = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05)


@dataclass(frozen=True)
class Utility:
    """How a threshold search weighs one message's outcome (a wrong answer costs the most).

    Attributes:
        correct_answer: the right entry answered at once.
        clarify_with_correct: choices offered and the right entry among them (partial success).
        escalated_out_of_scope: a message nothing answers got choices, a handoff offer or "please rephrase".
        wrong_answer: a wrong entry given as the answer.
    """

    correct_answer: float = 1.0
    clarify_with_correct: float = 0.5
    escalated_out_of_scope: float = 1.0
    wrong_answer: float = -4.0

    def of(self, action: str, given: object, choices: Iterable[str], expected: Sequence[str]) -> float:
        """The value of one outcome."""
        if action == ANSWER:
            return self.correct_answer if given in expected else self.wrong_answer
        if not expected:
            return self.escalated_out_of_scope
        if action == CLARIFY and any(c in expected for c in choices):
            return self.clarify_with_correct
        return 0.0


@dataclass(frozen=True)
class Shares:
    """How much of a kb's traffic each probe kind stands for (weights of the search; they sum to 1).

    Raises:
        ValueError: a share is negative or they do not sum to 1.
    """

    known: float = 0.85  # chosen on the benchmarks' dev splits by bench/calibration.py (docs: benchmarks)
    neighbour: float = 0.0
    offtopic: float = 0.15

    def __post_init__(self) -> None:
        values = {KNOWN: self.known, NEIGHBOUR: self.neighbour, OFFTOPIC: self.offtopic}
        if any(v < 0 for v in values.values()) or abs(sum(values.values()) - 1.0) > 1e-6:
            raise ValueError(f"probe shares must be >= 0 and sum to 1, got {values}")

    def by_kind(self) -> Dict[str, float]:
        """The shares keyed by probe kind."""
        return {KNOWN: self.known, NEIGHBOUR: self.neighbour, OFFTOPIC: self.offtopic}


def weighted_utility(probes: Sequence[Probe], config: DecisionConfig, utility: Utility,
                     weights: Mapping[str, float]) -> float:
    """The weighted mean utility of deciding every probe with the bot's FAQ policy under ``config``."""
    totals: Dict[str, float] = {}
    counts: Dict[str, int] = {}
    for probe in probes:
        decision = decide_turn(FAQ_INTENT, probe.candidates, ConversationState(), config, AnyEntry())
        value = utility.of(decision.action, decision.faq_id, (c.faq_id for c in decision.choices), probe.expected)
        totals[probe.kind] = totals.get(probe.kind, 0.0) + value
        counts[probe.kind] = counts.get(probe.kind, 0) + 1
    present = {kind: w for kind, w in weights.items() if counts.get(kind)}
    norm = sum(present.values()) or 1.0
    return sum(w / norm * totals[kind] / counts[kind] for kind, w in present.items())


class ProbeTable:
    """The probes as arrays, so that a configuration is scored without a Python loop per probe.

    :meth:`utility` equals :func:`weighted_utility` (the bot's own policy, probe by probe) for first
    messages; ``tests/unit/test_calibration.py`` holds them to that.
    """

    def __init__(self, probes: Sequence[Probe], max_choices: int = 5) -> None:
        width = max_choices
        self.kinds = np.array([p.kind for p in probes])
        self.scores = np.full((len(probes), width), -np.inf)
        self.right = np.zeros((len(probes), width), dtype=bool)
        self.count = np.zeros(len(probes), dtype=int)
        for i, probe in enumerate(probes):
            ranked = probe.candidates[:width]
            self.count[i] = len(ranked)
            for j, cand in enumerate(ranked):
                self.scores[i, j] = cand.score
                self.right[i, j] = cand.faq_id in probe.expected
        self.in_scope = np.array([bool(p.expected) for p in probes], dtype=bool)
        self.top = np.where(self.count > 0, self.scores[:, 0], 0.0)
        self.second = np.where(self.count > 1, self.scores[:, 1], -1.0)

    def utility(self, config: DecisionConfig, utility: Utility, weights: Mapping[str, float]) -> float:
        """The weighted mean utility under ``config`` (see :func:`weighted_utility`)."""
        has = self.count > 0
        answer = has & (self.top >= config.answer_threshold) & (self.top - self.second >= config.min_margin)
        clarify = has & ~answer & (config.max_misses > 1) & (self.top >= config.clarify_threshold)
        shown = np.zeros_like(self.right)
        k = min(config.max_choices, self.scores.shape[1])
        shown[:, :k] = self.scores[:, :k] >= config.clarify_threshold
        few = shown.sum(axis=1) < 2
        shown[few & (self.count > 1), :2] = True
        with_right = clarify & (shown & self.right).any(axis=1)
        value = np.where(answer, np.where(self.right[:, 0], utility.correct_answer, utility.wrong_answer), 0.0)
        value = np.where(~answer & ~self.in_scope, utility.escalated_out_of_scope, value)
        value = np.where(~answer & self.in_scope & with_right, utility.clarify_with_correct, value)
        total, norm = 0.0, 0.0
        for kind, weight in weights.items():
            rows = self.kinds == kind
            if rows.any():
                total += weight * float(value[rows].mean())
                norm += weight
        return total / norm if norm else 0.0


def search_thresholds(probes: Sequence[Probe], base: DecisionConfig, utility: Utility = Utility(),
                      shares: Shares = Shares(), steps: int = 41) -> DecisionConfig:
    """Grid-search answer threshold and margin, then the clarify threshold, maximising the weighted utility.

    Where several values are equally good, the smallest margin and the lowest thresholds are taken: the probes
    are the kb's own wording, closer to it than citizens write, so real questions score lower than they do
    (on the titles-only sample kb's dev set the middle of the best run answered 0.52 correctly, the lowest 0.70).

    Args:
        probes: the stand-in messages (see :mod:`bot.calibration.probes`).
        base: the configuration whose other values are kept.
        utility: how outcomes are valued.
        shares: how much each probe kind weighs.
        steps: grid points between the 1st and 99th percentile of the probes' top scores.

    Returns:
        ``base`` with the chosen ``answer_threshold``, ``clarify_threshold`` and ``min_margin``
        (``base`` itself when there are no probes).
    """
    tops = np.array([p.candidates[0].score for p in probes if p.candidates])
    if not len(tops):
        return base
    weights = shares.by_kind()
    table = ProbeTable(probes, base.max_choices)
    grid = np.unique(np.round(np.linspace(np.percentile(tops, 1), np.percentile(tops, 99), steps), 4))
    grid = grid[(grid >= -1.0) & (grid <= 1.0)]
    values = {(float(answer), margin): table.utility(
        replace(base, answer_threshold=float(answer), clarify_threshold=float(answer), min_margin=margin),
        utility, weights) for answer, margin in itertools.product(grid, MARGINS)}
    top = max(values.values())
    margin = min(m for (_, m), v in values.items() if v >= top - 1e-9)
    answers = [a for (a, m), v in values.items() if m == margin and v >= top - 1e-9]
    best = replace(base, answer_threshold=min(answers), min_margin=margin)
    best = replace(best, clarify_threshold=best.answer_threshold)
    lower = {float(c): table.utility(replace(best, clarify_threshold=float(c)), utility, weights)
             for c in grid if c <= best.answer_threshold}
    if lower and max(lower.values()) > table.utility(best, utility, weights) + 1e-9:
        top = max(lower.values())
        best = replace(best, clarify_threshold=min(c for c, v in lower.items() if v >= top - 1e-9))
    return best
