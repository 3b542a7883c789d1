"""A linear map of the embedding space, trained on the kb's own phrasings in seconds.

The general-purpose model places "card declined" and "card not working" closer to
other topics than this kb needs. The adapter ``W`` (dim x dim, starting as the identity)
is trained so that every phrasing lands nearest to its own entry's centroid (a
prototypical-network loss over cached embeddings; no pass through the transformer).
Queries and kb vectors are mapped by ``W`` before cosine similarity, which costs one
small matrix product per message. Because it is trained on the kb alone, it is
retrained with every index build and lives inside the index version. It learns only from
entries that list paraphrases (a title alone teaches nothing about how citizens ask), and
is left out when fewer than ``min_entries`` entries do.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import numpy as np

TRAINER = "numpy-adam-1"  # the training code: a change gives every index a new version (it is rebuilt)


@dataclass(frozen=True)
class AdapterConfig:
    """Training settings (chosen on dev splits by ``bench/weights.py``).

    Raises:
        ValueError: a value is out of range; the message names it.
    """

    epochs: int = 20
    learning_rate: float = 1e-3
    scale: float = 20.0
    batch_size: int = 64
    seed: int = 13
    min_entries: int = 10

    def __post_init__(self) -> None:
        if not 1 <= self.epochs <= 500:
            raise ValueError(f"epochs must be between 1 and 500, got {self.epochs}")
        if not 0 < self.learning_rate <= 0.1:
            raise ValueError(f"learning_rate must be in (0, 0.1], got {self.learning_rate}")
        if not 1 <= self.scale <= 100:
            raise ValueError(f"scale must be between 1 and 100, got {self.scale}")
        if self.min_entries < 2:
            raise ValueError(f"min_entries must be at least 2, got {self.min_entries}")
        if not 2 <= self.batch_size <= 4096:
            raise ValueError(f"batch_size must be between 2 and 4096, got {self.batch_size}")

    def key(self) -> str:
        """A short hash of the settings and the trainer, part of the index version."""
        payload = repr([TRAINER, *sorted(asdict(self).items())])
        return hashlib.sha256(payload.encode()).hexdigest()[:8]


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def train_adapter(
    vectors: np.ndarray,
    labels: np.ndarray,
    config: AdapterConfig = AdapterConfig(),
    progress: Optional[Callable[[int, int], None]] = None,
) -> Optional[np.ndarray]:
    """Learn ``W`` so each row is nearest to the centroid of its label.

    Args:
        vectors: L2-normalised phrasing embeddings, one per row.
        labels: the entry position of each row.
        config: training settings.
        progress: called with (epochs done, epochs).

    Returns:
        The float32 matrix, or None when fewer than two entries leave nothing to contrast.
    """
    if len(np.unique(labels)) < 2:
        return None
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    y = labels.astype(np.int64)
    n_labels = int(y.max()) + 1
    weight = np.eye(x.shape[1], dtype=np.float32)
    adam = _Adam(weight.shape, config.learning_rate)
    generator = np.random.default_rng(config.seed)
    for epoch in range(config.epochs):
        summed = np.zeros((n_labels, x.shape[1]), dtype=np.float32)  # the targets: each entry's centroid
        np.add.at(summed, y, normalise_rows(x @ weight))
        centroids = normalise_rows(summed)
        order = generator.permutation(len(x))
        for start in range(0, len(x), config.batch_size):
            rows = order[start : start + config.batch_size]
            weight = adam.step(weight, _gradient(x[rows], y[rows], weight, centroids, config.scale))
        if progress:
            progress(epoch + 1, config.epochs)
    return weight.astype(np.float32)


def _gradient(x: np.ndarray, y: np.ndarray, weight: np.ndarray, centroids: np.ndarray, scale: float) -> np.ndarray:
    """d/dW of the mean cross-entropy of ``scale * normalise(x @ W) @ centroids.T`` against the labels ``y``."""
    mapped = x @ weight
    norms = np.maximum(np.linalg.norm(mapped, axis=1, keepdims=True), 1e-12)
    unit = mapped / norms
    logits = scale * unit @ centroids.T
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(len(y)), y] -= 1.0  # softmax minus one-hot: d loss / d logits (times the batch size)
    d_unit = (scale / len(y)) * probs @ centroids
    d_mapped = (d_unit - unit * np.sum(d_unit * unit, axis=1, keepdims=True)) / norms  # through the normalisation
    return (x.T @ d_mapped).astype(np.float32)


class _Adam:
    """Adam (Kingma & Ba) with torch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay."""

    def __init__(self, shape: tuple, learning_rate: float) -> None:
        self.learning_rate = learning_rate
        self.first = np.zeros(shape, dtype=np.float32)
        self.second = np.zeros(shape, dtype=np.float32)
        self.steps = 0

    def step(self, weight: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        """The weight after one update."""
        self.steps += 1
        self.first = 0.9 * self.first + 0.1 * gradient
        self.second = 0.999 * self.second + 0.001 * gradient * gradient
        first = self.first / (1 - 0.9**self.steps)
        second = self.second / (1 - 0.999**self.steps)
        return (weight - self.learning_rate * first / (np.sqrt(second) + 1e-8)).astype(np.float32)
