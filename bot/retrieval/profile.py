"""How an index mixes its signals, chosen from the kb's shape: with paraphrases, or titles and answers only.

A kb whose entries list how citizens ask (``questions:``) is scored with the defaults chosen
on dev splits (:data:`PARAPHRASED`) and its adapter learns from those questions. A kb
imported from an FAQ page has one title per answer and nothing else: there a citizen asks
about a sentence inside the answer, so the answer passages weigh more (:data:`TITLES_ONLY`)
and the index learns a small map from passages to titles instead
(:mod:`bot.retrieval.title_adapter`), also when a few of its entries have gained questions.
Measured on dev splits (issue 18):
``bench/results/paraphrase-free-dev.txt``. The profile is a function of the kb's content,
so the index version (kb hash plus :data:`PROFILE_SCHEME`) still names everything that
decides a score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from bot.retrieval.index import DEFAULT_ANSWER_WEIGHT, DEFAULT_LEXICAL_WEIGHT

PROFILE_SCHEME = "profiles-2"  # the rule and the weights below: a change renames every index version
MIN_PARAPHRASED_SHARE = 0.5


@dataclass(frozen=True)
class ScoringProfile:
    """The signal mix of an index and whether it learns a titles-only adapter.

    Raises:
        ValueError: a weight is negative; the message names it.
    """

    name: str
    answer_weight: float
    lexical_weight: float
    title_adapter: bool = False

    def __post_init__(self) -> None:
        for field, value in (("answer_weight", self.answer_weight), ("lexical_weight", self.lexical_weight)):
            if value < 0:
                raise ValueError(f"{field} of profile {self.name!r} must be >= 0, got {value}")


PARAPHRASED = ScoringProfile("paraphrased", DEFAULT_ANSWER_WEIGHT, DEFAULT_LEXICAL_WEIGHT)
TITLES_ONLY = ScoringProfile("titles-only", 3.0, DEFAULT_LEXICAL_WEIGHT, title_adapter=True)


def paraphrased_share(phrasing_counts: Sequence[int]) -> float:
    """The share of entries with more than one phrasing (title plus at least one question); 0 for no entries."""
    if not phrasing_counts:
        return 0.0
    return sum(1 for n in phrasing_counts if n > 1) / len(phrasing_counts)


def choose_profile(phrasing_counts: Sequence[int], min_share: float = MIN_PARAPHRASED_SHARE) -> ScoringProfile:
    """:data:`PARAPHRASED` when at least ``min_share`` of the entries list questions, else :data:`TITLES_ONLY`.

    Args:
        phrasing_counts: for each entry, how many phrasings it has (its title counts as one).
        min_share: the share of entries with questions from which the kb counts as paraphrased.

    Raises:
        ValueError: ``min_share`` is outside [0, 1], or a count is below 1 (every entry has a title).
    """
    if not 0.0 <= min_share <= 1.0:
        raise ValueError(f"min_share must be between 0 and 1, got {min_share}")
    if any(n < 1 for n in phrasing_counts):
        raise ValueError(f"every entry has its title as a phrasing, got a count of {min(phrasing_counts)}")
    if not phrasing_counts:
        return PARAPHRASED
    return PARAPHRASED if paraphrased_share(phrasing_counts) >= min_share else TITLES_ONLY
