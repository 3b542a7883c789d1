"""Run labelled messages through the bot's retrieval, routing and the one decision; tune thresholds on dev."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from bot.calibration.tuning import Utility
from bot.decision import (
    FAQ_INTENT,
    ConversationState,
    DecisionConfig,
    IntentExamples,
    confidence_of,
    decide_turn,
)
from bot.decision.lifecycle import AnyEntry, EntryLookup
from bot.decision.routing import RouteSignals
from bot.evaluation.dataset import Example
from bot.evaluation.metrics import Outcome
from bot.retrieval.index import Candidate
from bot.retrieval.searcher import FaqSearcher

Ranked = List[Tuple[Example, List[Candidate]]]


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


def total_utility(outcomes: Iterable[Outcome], utility: Utility) -> float:
    """The summed value of ``outcomes`` (see :class:`bot.calibration.Utility`)."""
    return sum(utility.of(o.decision.action, o.decision.faq_id, (c.faq_id for c in o.decision.choices), o.expected)
               for o in outcomes)


def tune_thresholds(ranked: Ranked, base: DecisionConfig, utility: Utility = Utility()) -> DecisionConfig:
    """Grid-search answer/clarify thresholds and the margin on a dev set (never on test)."""
    tops = np.array([confidence_of(c) for _, c in ranked]) if ranked else np.zeros(1)
    lo, hi = float(np.percentile(tops, 1)), float(np.percentile(tops, 99))
    grid = np.round(np.linspace(lo, hi, 41), 4)
    best, best_score = base, -np.inf
    for answer, margin in itertools.product(grid, (0.0, 0.005, 0.01, 0.02, 0.03, 0.05)):
        config = replace(base, answer_threshold=float(answer), clarify_threshold=float(answer), min_margin=margin)
        score = total_utility(decide_all(ranked, config), utility)
        if score > best_score:
            best, best_score = config, score
    for clarify in grid[grid <= best.answer_threshold]:
        config = replace(best, clarify_threshold=float(clarify))
        score = total_utility(decide_all(ranked, config), utility)
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
