"""Run labelled messages through the bot's retrieval, routing and the one decision; tune thresholds on dev."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from bot.decision import (
    ANSWER,
    CLARIFY,
    FAQ_INTENT,
    ConversationState,
    DecisionConfig,
    IntentExamples,
    confidence_of,
    decide_turn,
)
from bot.decision.lifecycle import EntryLookup
from bot.decision.routing import RouteSignals
from bot.evaluation.dataset import Example
from bot.evaluation.metrics import Outcome
from bot.retrieval.index import Candidate, EntryRecord
from bot.retrieval.searcher import FaqSearcher

Ranked = List[Tuple[Example, List[Candidate]]]


class AnyEntry:
    """An entry lookup for rankings without an index (baselines): every id exists, none is overdue."""

    def entry(self, faq_id: str) -> Optional[EntryRecord]:
        """A stand-in record that is never overdue."""
        return _PRESENT  # type: ignore[return-value]


class _Present:
    def overdue(self, today: object) -> bool:
        return False


_PRESENT = _Present()


def rank_all(searcher: FaqSearcher, examples: Sequence[Example], batch: int = 64, use_lang_labels: bool = False,
             progress: Optional[Callable[[int, int], None]] = None,
             intents: Optional[IntentExamples] = None, page_lang: Optional[str] = None) -> Ranked:
    """Retrieve candidates for every example (batched embedding, the same ranking as the live bot).

    Args:
        searcher: the searcher over the index to evaluate.
        examples: the labelled messages.
        batch: messages embedded together.
        use_lang_labels: search in each example's labelled language instead of detecting it.
        progress: called with (done, total).
        intents: the conversational examples in the index's space: each example then keeps the signals to be
            routed like the live bot (small talk, not understood); None: every message is a question.
        page_lang: the widget page's language, the fallback when a message does not settle its language.
    """
    ranked: Ranked = []
    conversational = frozenset(intents.labels) - {FAQ_INTENT} if intents is not None else frozenset()
    for start in range(0, len(examples), batch):
        chunk = examples[start : start + batch]
        forced = [e.lang if use_lang_labels else None for e in chunk]
        results = searcher.search_many([e.text for e in chunk], [page_lang] * len(chunk), forced)
        vocabulary = searcher.index().languages.vocabulary
        for example, result in zip(chunk, results, strict=True):
            if intents is not None and result.vector is not None:
                nearest, similarity = intents.nearest(result.vector)
                signals = RouteSignals(nearest, similarity, result.best_phrasing, conversational, vocabulary)
                example = replace(example, signals=signals)
            ranked.append((example, result.candidates))
        if progress:
            progress(len(ranked), len(examples))
    return ranked


def decide_all(ranked: Ranked, config: DecisionConfig, index: Optional[EntryLookup] = None,
               withdraw: bool = False) -> List[Outcome]:
    """Route and decide every ranked example with :func:`bot.decision.decide_turn`, as a first message.

    Args:
        ranked: the ranked examples (:func:`rank_all`).
        config: the thresholds.
        index: the index the candidates come from (None: baselines without one; no entry is withdrawn).
        withdraw: the ``withdraw_overdue`` setting.
    """
    lookup = index if index is not None else AnyEntry()
    outcomes = []
    for example, cands in ranked:
        intent = example.signals.route(example.text, config).intent if example.signals is not None else FAQ_INTENT
        decision = decide_turn(intent, cands, ConversationState(), config, lookup, withdraw)
        outcomes.append(Outcome(tuple(c.faq_id for c in cands), confidence_of(cands), decision, example.expected))
    return outcomes


@dataclass(frozen=True)
class Utility:
    """How the threshold search weighs outcomes (a wrong answer costs the most)."""

    correct_answer: float = 1.0
    clarify_with_correct: float = 0.5
    escalated_out_of_scope: float = 1.0
    wrong_answer: float = -4.0

    def score(self, outcomes: Iterable[Outcome]) -> float:
        """Total utility of a set of outcomes."""
        total = 0.0
        for o in outcomes:
            action = o.decision.action
            if action == ANSWER:
                total += self.correct_answer if o.decision.faq_id in o.expected else self.wrong_answer
            elif not o.expected:
                total += self.escalated_out_of_scope
            elif action == CLARIFY and any(c.faq_id in o.expected for c in o.decision.choices):
                total += self.clarify_with_correct
        return total


def tune_thresholds(ranked: Ranked, base: DecisionConfig, utility: Utility = Utility()) -> DecisionConfig:
    """Grid-search answer/clarify thresholds and the margin on a dev set (never on test)."""
    tops = np.array([confidence_of(c) for _, c in ranked]) if ranked else np.zeros(1)
    lo, hi = float(np.percentile(tops, 1)), float(np.percentile(tops, 99))
    grid = np.round(np.linspace(lo, hi, 41), 4)
    best, best_score = base, -np.inf
    for answer, margin in itertools.product(grid, (0.0, 0.005, 0.01, 0.02, 0.03, 0.05)):
        config = replace(base, answer_threshold=float(answer), clarify_threshold=float(answer), min_margin=margin)
        score = utility.score(decide_all(ranked, config))
        if score > best_score:
            best, best_score = config, score
    for clarify in grid[grid <= best.answer_threshold]:
        config = replace(best, clarify_threshold=float(clarify))
        score = utility.score(decide_all(ranked, config))
        if score > best_score:
            best, best_score = config, score
    return best


def wrong_at_answered(ranked: Ranked, config: DecisionConfig, answered_correct: float) -> Optional[Dict[str, float]]:
    """The bot's wrong-answer rate at the highest answer threshold that answers at least as many correctly.

    Compares operating curves, not tuned points: a baseline that answers more (and more wrongly)
    is matched by lowering the bot's answer threshold on the same messages, first with the bot's
    margin rule, then (if that never answers enough) without it.

    Returns:
        ``answer_threshold``, ``answered_correct_rate`` and ``wrong_answer_rate`` there, or None if no
        threshold reaches ``answered_correct``.
    """
    from bot.evaluation.metrics import summarise

    tops = np.array([confidence_of(c) for _, c in ranked]) if ranked else np.zeros(0)
    thresholds = sorted(set(np.quantile(tops, np.linspace(0, 1, 201)).round(5)), reverse=True) if len(tops) else []
    for margin, threshold in [(m, t) for m in dict.fromkeys((config.min_margin, 0.0)) for t in thresholds]:
        trial = replace(config, answer_threshold=float(threshold), min_margin=margin,
                        clarify_threshold=min(config.clarify_threshold, float(threshold)))
        figures = summarise(decide_all(ranked, trial), with_ci=False)
        if float(figures["answered_correct_rate"]) >= answered_correct:  # type: ignore[arg-type]
            return {"answer_threshold": float(threshold), "min_margin": margin,
                    "answered_correct_rate": float(figures["answered_correct_rate"]),  # type: ignore[arg-type]
                    "wrong_answer_rate": float(figures["wrong_answer_rate"])}  # type: ignore[arg-type]
    return None
