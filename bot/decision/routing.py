"""Which intent a message gets: small talk, an FAQ question, or nothing to understand.

Rasa's intent classifiers give high confidence to almost anything, so the conversational intents
(greet, thanks, ask_human, ...) are matched by the nearest training example in the same embedding
space as the FAQ phrasings. A message gets a conversational reply only when that example is close
by an absolute floor AND closer than any FAQ phrasing by a margin (both chosen on dev data); typing
noise ("asdf qwer", "😀😀") is ``not_understood``; an explicit request for a person is ``ask_human``
even inside a question; everything else is a question for the FAQ policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import AbstractSet, Callable, Collection, Dict, List, Optional, Tuple

import numpy as np
import yaml

from bot.config.decision import DecisionConfig
from bot.decision.content import has_content
from bot.decision.person_request import asks_for_person

FAQ_INTENT = "faq"
ASK_HUMAN = "ask_human"
NOT_UNDERSTOOD = "not_understood"
# Intents that come from buttons (typed payloads) or Rasa itself: never re-routed.
PASS_THROUGH = frozenset({"choose_faq", "none_of_these", "feedback_helpful", "feedback_not_helpful", "skip_email",
                          "restart", "session_start"})


@dataclass(frozen=True)
class IntentExamples:
    """Embedded training examples of the conversational intents."""

    labels: List[str]
    vectors: np.ndarray

    def nearest(self, query: np.ndarray) -> Tuple[Optional[str], float]:
        """The intent of the most similar example and that similarity."""
        if not self.labels:
            return None, -1.0
        sims = self.vectors @ query
        best = int(np.argmax(sims))
        return self.labels[best], float(sims[best])

    def to_dict(self) -> Dict[str, object]:
        """JSON-ready labels (vectors are saved separately)."""
        return {"labels": self.labels}

    @classmethod
    def from_nlu_file(cls, path: Path, encode: Callable[[List[str]], np.ndarray]) -> "IntentExamples":
        """The examples of a Rasa ``nlu.yml`` (all intents, ``faq`` included), embedded with ``encode``.

        Used by the evaluation, which routes like the trained bot without loading Rasa.
        """
        labels, texts = read_nlu_examples(path)
        return cls(labels, encode(texts) if texts else np.zeros((0, 1), dtype=np.float32))


def read_nlu_examples(path: Path) -> Tuple[List[str], List[str]]:
    """(intent, text) pairs of a Rasa 3 ``nlu.yml`` as two lists.

    Raises:
        ValueError: the file is not a Rasa NLU file (the message names it).
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not isinstance(data.get("nlu"), list):
        raise ValueError(f"{path}: not a Rasa NLU file (no 'nlu:' list)")
    labels: List[str] = []
    texts: List[str] = []
    for block in data["nlu"]:
        if not isinstance(block, dict) or "intent" not in block:
            continue
        for line in str(block.get("examples") or "").splitlines():
            text = line.strip()
            if text.startswith("- "):
                labels.append(str(block["intent"]))
                texts.append(text[2:].strip())
    return labels, texts


@dataclass(frozen=True)
class Route:
    """The routed intent and the similarity that decided it."""

    intent: str
    similarity: float


@dataclass(frozen=True)
class RouteSignals:
    """What routing reads from one embedded message (kept so that thresholds can be swept without re-embedding).

    Attributes:
        nearest_intent: the intent of the closest conversational example (``faq`` examples included).
        nearest_similarity: its similarity.
        best_faq_similarity: the similarity of the closest FAQ phrasing.
        conversational: the intents that may get a conversational reply.
        known_words: the kb's vocabulary.
    """

    nearest_intent: Optional[str]
    nearest_similarity: float
    best_faq_similarity: float
    conversational: AbstractSet[str] = frozenset()
    known_words: AbstractSet[str] = field(default=frozenset(), repr=False)

    def route(self, text: str, config: DecisionConfig, classifier_intent: Optional[str] = None) -> Route:
        """:func:`route_intent` with these signals."""
        return route_intent(text, classifier_intent, self.nearest_intent, self.nearest_similarity,
                            self.best_faq_similarity, self.conversational, config, self.known_words)


def route_intent(
    text: str,
    classifier_intent: Optional[str],
    nearest_intent: Optional[str],
    nearest_similarity: float,
    best_faq_similarity: float,
    conversational: Collection[str],
    config: DecisionConfig,
    known_words: AbstractSet[str] = frozenset(),
) -> Route:
    """The intent the dialogue should act on.

    Args:
        text: the message.
        classifier_intent: the intent set before (a typed button payload, or another classifier's result).
        nearest_intent: the conversational intent whose example is most similar to the message.
        nearest_similarity: that similarity.
        best_faq_similarity: the similarity of the most similar FAQ phrasing.
        conversational: the intents that may be kept (greet, thanks, ask_human, ...).
        config: the floor and margin for conversational intents.
        known_words: the kb's vocabulary (never typing noise).
    """
    if classifier_intent in PASS_THROUGH:
        return Route(str(classifier_intent), 1.0)
    if not has_content(text, known_words):
        return Route(NOT_UNDERSTOOD, 0.0)
    if ASK_HUMAN in conversational and asks_for_person(text):
        return Route(ASK_HUMAN, 1.0)  # an explicit request wins, also beside a question (bot.decision.person_request)
    if (
        nearest_intent in conversational
        and nearest_similarity >= config.smalltalk_floor
        and nearest_similarity - best_faq_similarity >= config.smalltalk_margin
    ):
        return Route(str(nearest_intent), nearest_similarity)
    return Route(FAQ_INTENT, best_faq_similarity)
