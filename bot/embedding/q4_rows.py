"""Word-embedding rows dequantised from 4-bit Q4_0 blocks with numpy (the serving path, no torch).

The same arithmetic as :class:`bot.embedding.q4_embedding.Q4Embedding`: each row is 12 blocks
of 32 weights sharing one fp16 scale, nibbles stored low half first, offset by 8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
Q4_FILE = "q4_word_embeddings.safetensors"


class Q4Rows:
    """Looks up float32 word-embedding rows for token ids.

    Args:
        qs: uint8 nibbles, shape [vocab, blocks, 16].
        scales: float16 block scales, shape [vocab, blocks].

    Raises:
        ValueError: the shapes do not fit together.
    """

    def __init__(self, qs: np.ndarray, scales: np.ndarray) -> None:
        if qs.dtype != np.uint8 or qs.ndim != 3 or qs.shape[2] != QK // 2 or scales.shape != qs.shape[:2]:
            raise ValueError(f"Q4 blocks of shape {qs.shape} and scales {scales.shape} do not fit")
        self.qs = qs
        self.scales = scales.astype(np.float32)
        self.vocab = int(qs.shape[0])
        self.dim = int(qs.shape[1] * QK)

    @classmethod
    def from_directory(cls, directory: Path) -> "Q4Rows":
        """The blocks a provisioned model directory keeps in ``q4_word_embeddings.safetensors``."""
        from safetensors.numpy import load_file

        path = directory / Q4_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing; run 'auskunft model provision' to rebuild the model directory")
        blocks = load_file(str(path))
        return cls(blocks["qs"], blocks["scales"])

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """Float32 rows for an integer array of token ids (any shape; a trailing ``dim`` axis is added)."""
        q = self.qs[ids]
        low = (q & 0x0F).astype(np.int8) - 8
        high = (q >> 4).astype(np.int8) - 8
        weights = np.concatenate([low, high], axis=-1).astype(np.float32) * self.scales[ids][..., None]
        return weights.reshape(*ids.shape, self.dim)
