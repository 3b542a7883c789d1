"""Word embeddings kept in 4-bit Q4_0 form and dequantised per looked-up row.

The default model's word-embedding table (167k x 384) is 257 MB as float32; every
new token a citizen types pages another part of it into memory, so the bot's
resident memory grew by ~0.4 MB per message. The original 4-bit blocks are only
37 MB and give exactly the same float32 rows when dequantised on lookup.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from bot.embedding.q4_rows import Q4_FILE


class Q4Embedding(nn.Module):
    """Drop-in for ``nn.Embedding`` over Q4_0 blocks (fp16 scale + 16 bytes of nibbles per 32 weights).

    Args:
        qs: uint8 nibbles, shape [vocab, blocks, 16].
        scales: float16 block scales, shape [vocab, blocks].

    Raises:
        ValueError: the shapes do not fit together.
    """

    def __init__(self, qs: torch.Tensor, scales: torch.Tensor) -> None:
        super().__init__()
        if qs.dtype != torch.uint8 or qs.dim() != 3 or qs.shape[2] != 16 or scales.shape != qs.shape[:2]:
            raise ValueError(f"Q4 blocks of shape {tuple(qs.shape)} and scales {tuple(scales.shape)} do not fit")
        self.qs: torch.Tensor
        self.scales: torch.Tensor
        self.register_buffer("qs", qs, persistent=False)
        self.register_buffer("scales", scales, persistent=False)
        self.num_embeddings = int(qs.shape[0])
        self.embedding_dim = int(qs.shape[1] * 32)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Dequantised float32 rows for ``ids``."""
        q = self.qs[ids]
        low = (q & 0x0F).to(torch.int8) - 8
        high = (q >> 4).to(torch.int8) - 8
        weights = torch.cat([low, high], dim=-1).to(torch.float32) * self.scales[ids].to(torch.float32).unsqueeze(-1)
        return weights.reshape(*ids.shape, self.embedding_dim)


def use_q4_word_embeddings(model: nn.Module, directory: Path) -> bool:
    """Replace the float32 word embeddings of a BERT-style model if ``directory`` has Q4 blocks.

    Returns:
        Whether the embeddings were replaced.
    """
    path = directory / Q4_FILE
    embeddings = getattr(model, "embeddings", None)
    current = getattr(embeddings, "word_embeddings", None)
    if not path.is_file() or not isinstance(current, nn.Embedding):
        return False
    from safetensors.torch import load_file

    blocks = load_file(str(path))
    replacement = Q4Embedding(blocks["qs"], blocks["scales"])
    if (replacement.num_embeddings, replacement.embedding_dim) != tuple(current.weight.shape):
        raise ValueError(f"{path} holds {replacement.num_embeddings}x{replacement.embedding_dim} embeddings, "
                         f"the model {tuple(current.weight.shape)}")
    embeddings.word_embeddings = replacement  # type: ignore[union-attr]
    return True
