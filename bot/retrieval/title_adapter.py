"""A kb adapter for kbs without paraphrases: answer passages pulled towards their own entry's title.

With only a title per entry there is nothing to learn how citizens ask (the paraphrase
adapter of :mod:`bot.retrieval.adapter` is then left out). What such a kb does offer is
which passages belong to which title. The map ``W`` (starting as the identity) is trained
so that each passage lands nearest to its own entry's title among all titles (the same
prototypical loss, titles as the prototypes), while a penalty ``regularisation * ||W - I||²``
keeps it close to the model's own space. Questions about a sentence in an answer then sit
nearer that entry. Trained in seconds on cached vectors, with every index build; measured
on dev splits in ``bench/results/paraphrase-free-dev.txt`` (an earlier variant trained on
passages without the penalty lowered Integreat's top-1).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np

from bot.retrieval.adapter import AdapterConfig, _Adam, _gradient, normalise_rows  # the paraphrase adapter's parts

TRAINER = "title-adapter-1"  # the training code: a change gives every index a new version (it is rebuilt)


@dataclass(frozen=True)
class TitleAdapterConfig(AdapterConfig):
    """The paraphrase adapter's training settings plus the identity penalty.

    Chosen on dev splits by ``bench/paraphrase_free.py``.

    Raises:
        ValueError: a value is out of range; the message names it.
    """

    regularisation: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.regularisation <= 1000:
            raise ValueError(f"regularisation must be between 0 and 1000, got {self.regularisation}")

    def key(self) -> str:
        """A short hash of the settings and this trainer, part of the index version."""
        payload = repr([TRAINER, *sorted(asdict(self).items())])
        return hashlib.sha256(payload.encode()).hexdigest()[:8]


def train_title_adapter(titles: np.ndarray, passages: np.ndarray, passage_owners: np.ndarray,
                        config: TitleAdapterConfig = TitleAdapterConfig()) -> Optional[np.ndarray]:
    """Learn ``W`` so that each passage is nearest to its own entry's title.

    Args:
        titles: one L2-normalised title vector per entry, in entry order.
        passages: L2-normalised passage vectors.
        passage_owners: for each passage row, the position of its entry in ``titles``.
        config: training settings.

    Returns:
        The float32 (dim x dim) matrix, or None when fewer than ``config.min_entries`` entries leave too
        little to learn from.

    Raises:
        ValueError: the arrays do not fit together.
    """
    if passages.shape[0] != passage_owners.shape[0]:
        raise ValueError(f"{passages.shape[0]} passage vectors but {passage_owners.shape[0]} owner rows")
    if titles.ndim != 2 or passages.ndim != 2 or titles.shape[1] != passages.shape[1]:
        raise ValueError(f"titles {titles.shape} and passages {passages.shape} must be matrices of the same width")
    if len(passage_owners) and (passage_owners.min() < 0 or passage_owners.max() >= len(titles)):
        raise ValueError(f"passage owners must lie in 0..{len(titles) - 1}")
    if len(titles) < config.min_entries or len(passages) == 0:
        return None
    x = np.ascontiguousarray(passages, dtype=np.float32)
    y = passage_owners.astype(np.int64)
    identity = np.eye(x.shape[1], dtype=np.float32)
    weight = identity.copy()
    adam = _Adam(weight.shape, config.learning_rate)
    generator = np.random.default_rng(config.seed)
    for _ in range(config.epochs):
        prototypes = normalise_rows(titles.astype(np.float32) @ weight)
        order = generator.permutation(len(x))
        for start in range(0, len(x), config.batch_size):
            rows = order[start : start + config.batch_size]
            gradient = _gradient(x[rows], y[rows], weight, prototypes, config.scale)
            weight = adam.step(weight, gradient + 2.0 * config.regularisation * (weight - identity))
    return weight.astype(np.float32)
