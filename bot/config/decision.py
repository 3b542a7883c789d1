"""The decision's thresholds: on the retrieval score (FAQ policy) and on the raw similarities (routing)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DecisionConfig:
    """Thresholds on the retrieval score (the index's combined score, see :mod:`bot.retrieval.index`).

    Args:
        answer_threshold: answer directly at or above this score ...
        min_margin: ... if the runner-up is at least this far behind.
        clarify_threshold: below the answer rule but at or above this, offer choices.
        max_choices: how many candidates a clarify step offers (2-3).
        max_misses: consecutive clarify/low-confidence turns before handing off.
        smalltalk_floor: a message gets a conversational reply (greeting, thanks, ...) only if its
            nearest conversational example is at least this similar (raw cosine of the model) ...
        smalltalk_margin: ... and at least this much more similar than the closest FAQ phrasing.

    Raises:
        ValueError: a value is out of range; the message names it.
    """

    # Chosen on tests/data/sample_kb_dev.jsonl by `python bench/quality.py --tune` (see README).
    answer_threshold: float = 0.395
    clarify_threshold: float = 0.138
    min_margin: float = 0.03
    max_choices: int = 3
    max_misses: int = 2
    # Chosen on dev data by `python bench/routing.py` (see docs: benchmarks).
    smalltalk_floor: float = 0.86
    smalltalk_margin: float = 0.04

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
        if not 0.0 <= self.smalltalk_floor <= 1.0:
            raise ValueError(f"smalltalk_floor must be a cosine similarity in [0, 1], got {self.smalltalk_floor}")
        if not -1.0 <= self.smalltalk_margin <= 1.0:
            raise ValueError(f"smalltalk_margin must be in [-1, 1], got {self.smalltalk_margin}")
        if self.max_misses < 1:
            raise ValueError(f"max_misses must be at least 1, got {self.max_misses}")
