"""Per-kb thresholds without labelled data: probes from the kb and the shipped off-topic set, searched at build.

Scores mean different things on different kbs (a kb with paraphrases trains an adapter, whose scores
sit lower than the model's own cosines of a titles-only kb), so one shipped threshold cannot suit
both. Each index therefore carries thresholds chosen on its own probes (``meta["calibration"]``);
the bot uses them unless thresholds are configured (``AUSKUNFT_THRESHOLDS=fixed`` or an explicit
``AUSKUNFT_ANSWER_THRESHOLD`` / ``CLARIFY_THRESHOLD`` / ``MIN_MARGIN``).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace
from typing import Mapping, Optional, Sequence, Tuple

import numpy as np

from bot.calibration.probes import OFFTOPIC_FILE, kb_probes, offtopic_messages, offtopic_probes
from bot.calibration.tuning import Shares, Utility, search_thresholds
from bot.config.decision import DecisionConfig
from bot.config.settings import Settings
from bot.retrieval.cache import EmbeddingCache
from bot.retrieval.index import FaqIndex, TextEncoder

METHOD = "probes-v2"  # change when probes, shares or utility change: an index records how it was calibrated


@dataclass(frozen=True)
class Calibration:
    """The thresholds chosen for one index, and what they were chosen on."""

    answer_threshold: float
    clarify_threshold: float
    min_margin: float
    probes: int
    method: str = METHOD

    def applied_to(self, config: DecisionConfig) -> DecisionConfig:
        """``config`` with these thresholds (its other values kept)."""
        return replace(config, answer_threshold=self.answer_threshold, clarify_threshold=self.clarify_threshold,
                       min_margin=self.min_margin)

    def to_meta(self) -> dict:
        """JSON-ready form for the index's metadata."""
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}

    @classmethod
    def from_meta(cls, meta: Mapping[str, object]) -> Optional["Calibration"]:
        """The calibration recorded in an index's metadata, None if there is none (or it is unreadable)."""
        data = meta.get("calibration")
        if not isinstance(data, Mapping):
            return None
        try:
            return cls(float(data["answer_threshold"]), float(data["clarify_threshold"]),  # type: ignore[arg-type]
                       float(data["min_margin"]), int(data.get("probes", 0)), str(data.get("method", "")))  # type: ignore[call-overload]
        except (KeyError, TypeError, ValueError):
            return None


def thresholds_for(settings: Settings, index_meta: Optional[Mapping[str, object]]) -> DecisionConfig:
    """The thresholds the bot decides with on an index: its calibration, unless thresholds are fixed.

    Args:
        settings: the configuration (``thresholds``, explicit ``answer_threshold`` and so on).
        index_meta: the metadata of the index the decision is about (None: the configured thresholds).
    """
    config = settings.decision_config()
    if not settings.calibrated_thresholds or index_meta is None:
        return config
    calibration = Calibration.from_meta(index_meta)
    return calibration.applied_to(config) if calibration else config


def _offtopic_vectors(encoder: TextEncoder, cache: Optional[EmbeddingCache],
                      messages: Sequence[Tuple[str, str]]) -> np.ndarray:
    key = "offtopic-" + hashlib.sha256(OFFTOPIC_FILE.read_bytes()).hexdigest()[:16]
    cached = cache.get(key) if cache else None
    if cached is not None and cached.shape == (len(messages), encoder.dim):
        return cached
    vectors = np.asarray(encoder.encode([text for _, text in messages]), dtype=np.float32)
    if cache:
        cache.put(key, vectors)
    return vectors


def calibrate(index: FaqIndex, encoder: TextEncoder, base: DecisionConfig = DecisionConfig(),
              cache: Optional[EmbeddingCache] = None, shares: Shares = Shares(),
              utility: Utility = Utility()) -> Optional[Calibration]:
    """Choose thresholds for ``index`` on its probes (about a second for a few hundred entries).

    Args:
        index: the built index.
        encoder: the encoder the index was built with (embeds the off-topic messages, cached).
        base: the configured decision values (choices, misses) the search keeps.
        cache: where the off-topic embeddings are kept between builds.
        shares: how much each probe kind weighs.
        utility: how outcomes are valued.

    Returns:
        The calibration, or None for a kb too small to probe (fewer than two entries).
    """
    probes = kb_probes(index, k=max(base.max_choices, 2))
    if not probes:
        return None
    messages = offtopic_messages()
    probes += offtopic_probes(index, _offtopic_vectors(encoder, cache, messages), messages,
                              k=max(base.max_choices, 2))
    chosen = search_thresholds(probes, base, utility, shares)
    return Calibration(chosen.answer_threshold, chosen.clarify_threshold, chosen.min_margin, len(probes))
