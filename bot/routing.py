"""Which intent a message gets: conversational only when closer to its examples than to any FAQ.

Rasa's intent classifiers give high confidence to almost anything, so "Hallo, wie beantrage
ich einen Pass?" must not end as a mere greeting; and the FAQ index matches short messages
such as "Hallo" fairly well too. Comparing both in the same embedding space settles it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection, Dict, List, Optional

import numpy as np

FAQ_INTENT = "faq"
PASS_THROUGH = frozenset({"choose_faq", "none_of_these", "feedback_helpful", "feedback_not_helpful", "skip_email",
                          "restart", "session_start"})


@dataclass(frozen=True)
class IntentExamples:
    """Embedded training examples of the conversational intents."""

    labels: List[str]
    vectors: np.ndarray

    def nearest(self, query: np.ndarray) -> tuple[Optional[str], float]:
        """The intent of the most similar example and that similarity."""
        if not self.labels:
            return None, -1.0
        sims = self.vectors @ query
        best = int(np.argmax(sims))
        return self.labels[best], float(sims[best])

    def to_dict(self) -> Dict[str, object]:
        """JSON-ready labels (vectors are saved separately)."""
        return {"labels": self.labels}


def route_intent(
    classifier_intent: Optional[str],
    nearest_intent: Optional[str],
    nearest_similarity: float,
    best_faq_similarity: float,
    conversational: Collection[str],
) -> str:
    """The intent the dialogue should act on.

    Args:
        classifier_intent: the intent classifier's result.
        nearest_intent: the conversational intent whose example is most similar to the message.
        nearest_similarity: that similarity.
        best_faq_similarity: the similarity of the most similar FAQ phrasing.
        conversational: the intents that may be kept (greet, thanks, ask_human, ...).
    """
    if classifier_intent in PASS_THROUGH:
        return classifier_intent  # type: ignore[return-value]
    if nearest_intent in conversational and nearest_similarity >= best_faq_similarity:
        return nearest_intent  # type: ignore[return-value]
    return FAQ_INTENT
