"""Baselines run side by side with the bot on the same data: keyword search (BM25) and plain cosine."""

from __future__ import annotations

import math
import re
from typing import List, Sequence

from bot.evaluation.dataset import Example
from bot.evaluation.runner import Ranked
from bot.kb.loader import KnowledgeBase
from bot.retrieval.index import Candidate, FaqIndex

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> List[str]:
    """Lowercase word tokens, as a site search would index them."""
    return _TOKEN.findall(text.lower())


class Bm25Baseline:
    """BM25 (Okapi) over each entry's title, phrasings and answer: what a site search does.

    Scores are mapped to [0, 1) by ``s / (s + scale)`` so the same decision function
    and threshold search apply.
    """

    def __init__(self, kb: KnowledgeBase, scale: float = 10.0) -> None:
        from rank_bm25 import BM25Okapi

        self.entries = kb.entries
        self.scale = scale
        self._bm25 = BM25Okapi([tokenize(" ".join((*e.phrasings, e.answer))) for e in kb.entries])

    def rank(self, examples: Sequence[Example], k: int = 10) -> Ranked:
        """Top-k entries per example."""
        ranked: Ranked = []
        for example in examples:
            scores = self._bm25.get_scores(tokenize(example.text))
            order = sorted(range(len(scores)), key=lambda i: -scores[i])[:k]
            ranked.append((example, [self._candidate(i, float(scores[i])) for i in order]))
        return ranked

    def _candidate(self, i: int, score: float) -> Candidate:
        entry = self.entries[i]
        squashed = score / (score + self.scale) if score > 0 and math.isfinite(score) else 0.0
        return Candidate(entry.id, squashed, entry.title, "", entry.lang, entry.source)


def cosine_phrasings_only(index: FaqIndex) -> FaqIndex:
    """The same embeddings scored by the best phrasing alone (no answer text, no keywords, no adapter)."""
    return index.without_adapter().reweighted(answer_weight=0.0, lexical_weight=0.0)
