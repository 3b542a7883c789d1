"""Embeddings cached on disk by entry content hash, so a rebuild re-embeds only what changed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np


class EmbeddingCache:
    """A directory of ``<key>.npy`` files, one per entry, per model fingerprint.

    Args:
        root: the cache directory.
        model_fingerprint: identifies the encoder; different models never share entries.
    """

    def __init__(self, root: Path, model_fingerprint: str) -> None:
        self.dir = root / model_fingerprint
        self.dir.mkdir(parents=True, exist_ok=True)

    def get(self, key: str) -> Optional[np.ndarray]:
        """The cached matrix for ``key``, or None."""
        path = self.dir / f"{key}.npy"
        if not path.is_file():
            return None
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None

    def put(self, key: str, vectors: np.ndarray) -> None:
        """Store a matrix atomically (a crash never leaves a half-written file)."""
        fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, vectors.astype(np.float32), allow_pickle=False)
        os.replace(tmp, self.dir / f"{key}.npy")
