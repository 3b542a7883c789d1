"""The FAQ policy: answer, clarify or hand off, from the ranked candidates and the conversation's signals.

Callers do not use it directly: :func:`bot.decision.turn.decide_turn` routes the message first
and withdraws overdue entries after, so that every caller gets the decision citizens get.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence, Tuple

from bot.config.decision import DecisionConfig
from bot.retrieval.index import Candidate

ANSWER = "answer"
CLARIFY = "clarify"
HANDOFF = "handoff"
REPHRASE = "rephrase"  # no content to search for: ask to rephrase, offer a person
SMALLTALK = "smalltalk"  # a conversational reply (greeting, thanks, ...); ``reason`` names the intent


@dataclass(frozen=True)
class Decision:
    """What to do, why, and with which FAQ entries."""

    action: str
    reason: str
    confidence: float
    faq_id: Optional[str] = None
    choices: Tuple[Candidate, ...] = field(default_factory=tuple)


def confidence_of(candidates: Sequence[Candidate]) -> float:
    """The score the thresholds apply to: the best candidate's similarity (0 if none)."""
    return candidates[0].score if candidates else 0.0


def decide(
    candidates: Sequence[Candidate],
    config: DecisionConfig,
    *,
    asked_for_human: bool = False,
    not_helpful: bool = False,
    choices_rejected: bool = False,
    misses_before: int = 0,
) -> Decision:
    """Answer, clarify or hand off.

    Args:
        candidates: ranked FAQ candidates for the message, best first.
        config: the thresholds.
        asked_for_human: the citizen asked for a person.
        not_helpful: the citizen said the last answer did not help.
        choices_rejected: the citizen said none of the offered choices fits.
        misses_before: consecutive earlier turns that ended without an answer.
    """
    confidence = confidence_of(candidates)
    if asked_for_human:
        return Decision(HANDOFF, "asked_for_human", confidence)
    if not_helpful:
        return Decision(HANDOFF, "not_helpful", confidence)
    if choices_rejected:
        return Decision(HANDOFF, "choices_rejected", confidence)
    if not candidates:
        return Decision(HANDOFF, "no_candidates", confidence)
    top = candidates[0]
    runner_up = candidates[1].score if len(candidates) > 1 else -1.0
    if top.score >= config.answer_threshold and top.score - runner_up >= config.min_margin:
        return Decision(ANSWER, "confident", confidence, faq_id=top.faq_id)
    if misses_before + 1 >= config.max_misses:
        return Decision(HANDOFF, "repeated_miss", confidence)
    if top.score >= config.clarify_threshold:
        choices = tuple(c for c in candidates[: config.max_choices] if c.score >= config.clarify_threshold)
        if len(choices) < 2 and len(candidates) > 1:
            choices = tuple(candidates[:2])
        return Decision(CLARIFY, "ambiguous" if top.score >= config.answer_threshold else "uncertain",
                        confidence, choices=choices)
    return Decision(HANDOFF, "low_confidence", confidence)
