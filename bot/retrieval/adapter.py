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
        """A short hash of the settings, part of the index version."""
        return hashlib.sha256(repr(sorted(asdict(self).items())).encode()).hexdigest()[:8]


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
    import torch

    generator = torch.Generator().manual_seed(config.seed)
    x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
    y = torch.from_numpy(labels.astype(np.int64))
    n_labels = int(y.max()) + 1
    weight = torch.nn.Parameter(torch.eye(x.shape[1]))
    optimizer = torch.optim.Adam([weight], lr=config.learning_rate)
    normalize = torch.nn.functional.normalize
    for epoch in range(config.epochs):
        with torch.no_grad():  # the targets: each entry's centroid under the current map
            summed = torch.zeros(n_labels, x.shape[1]).index_add_(0, y, normalize(x @ weight, dim=1))
            centroids = normalize(summed, dim=1)
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), config.batch_size):
            rows = order[start : start + config.batch_size]
            mapped = normalize(x[rows] @ weight, dim=1)
            loss = torch.nn.functional.cross_entropy(config.scale * mapped @ centroids.T, y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if progress:
            progress(epoch + 1, config.epochs)
    return weight.detach().numpy().astype(np.float32)
