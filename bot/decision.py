"""The one function that decides what the bot does with a question.

Shared by the live bot (the custom actions) and the evaluation tool, so that
measured quality is the quality citizens get.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence, Tuple

from bot.retrieval.index import Candidate

ANSWER = "answer"
CLARIFY = "clarify"
HANDOFF = "handoff"


@dataclass(frozen=True)
class DecisionConfig:
    """Thresholds on the retrieval score (the index's combined score, see :mod:`bot.retrieval.index`).

    Args:
        answer_threshold: answer directly at or above this score ...
        min_margin: ... if the runner-up is at least this far behind.
        clarify_threshold: below the answer rule but at or above this, offer choices.
        max_choices: how many candidates a clarify step offers (2-3).
        max_misses: consecutive clarify/low-confidence turns before handing off.

    Raises:
        ValueError: a value is out of range; the message names it.
    """

    # Chosen on tests/data/sample_kb_dev.jsonl by `python bench/quality.py --tune` (see README).
    answer_threshold: float = 0.395
    clarify_threshold: float = 0.138
    min_margin: float = 0.03
    max_choices: int = 3
    max_misses: int = 2

    def __post_init__(self) -> None:
        for name in ("answer_threshold", "clarify_threshold"):
            value = getattr(self, name)
            if not -1.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a cosine similarity in [-1, 1], got {value}")
        if self.clarify_threshold > self.answer_threshold:
            raise ValueError(
                f"clarify_threshold ({self.clarify_threshold}) must not exceed "
                f"answer_threshold ({self.answer_threshold})"
            )
        if not 0.0 <= self.min_margin <= 1.0:
            raise ValueError(f"min_margin must be in [0, 1], got {self.min_margin}")
        if not 2 <= self.max_choices <= 5:
            raise ValueError(f"max_choices must be between 2 and 5, got {self.max_choices}")
        if self.max_misses < 1:
            raise ValueError(f"max_misses must be at least 1, got {self.max_misses}")


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
