"""The sentence-transformers (torch) encoder: provisioning checks, fine-tuning, the reference for the ONNX graph.

Needs the ``train`` extra (torch, sentence-transformers); serving uses :class:`bot.embedding.onnx_encoder.OnnxEncoder`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, Optional, Sequence

import numpy as np

from bot.embedding.encoder import fingerprint_of, release_free_memory

if TYPE_CHECKING:
    from bot.embedding.finetune import FinetuneConfig
    from bot.kb.entry import FaqEntry


class Encoder:
    """Embeds queries and FAQ phrasings with a sentence-transformers model.

    Args:
        model: a sentence-transformers model name or a local model directory.
        threads: torch intra-op threads. One thread answers a single query in
            ~20 ms on a 2-core machine; torch's default (all cores) takes ~500 ms.
        query_prompt: prompt name for queries and phrasings, if the model defines it
            (e5 models expect ``query: `` for symmetric question matching).

    Raises:
        ValueError: ``threads`` is not positive.
        FileNotFoundError: ``model`` looks like a path and does not exist.
    """

    def __init__(self, model: str, threads: int = 1, query_prompt: Optional[str] = "query") -> None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        if (model.startswith((".", "/")) or os.sep in model) and not Path(model).is_dir():
            raise FileNotFoundError(
                f"embedding model directory '{model}' not found; run 'auskunft model provision' "
                "or set AUSKUNFT_EMBEDDING_MODEL to a sentence-transformers model"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from sentence_transformers import SentenceTransformer

        from bot.embedding.q4_embedding import use_q4_word_embeddings

        torch.set_num_threads(threads)
        self._model = SentenceTransformer(model, device="cpu")
        self.q4_embeddings = Path(model).is_dir() and use_q4_word_embeddings(
            getattr(self._model[0], "auto_model", self._model[0]), Path(model)
        )
        prompts = getattr(self._model, "prompts", {}) or {}
        self._prompt = query_prompt if query_prompt in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else self._prompt
        self.name = model
        self.threads = threads
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.fingerprint = fingerprint_of(model, self._prompt)
        release_free_memory()

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, progress: bool = False, passage: bool = False
    ) -> np.ndarray:
        """Embed texts as L2-normalised float32 rows.

        Args:
            texts: the texts.
            batch_size: texts per forward pass.
            progress: show a progress bar.
            passage: embed as documents (answers) rather than as questions, for
                models with asymmetric prompts such as e5.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            prompt_name=self._passage_prompt if passage else self._prompt,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        """Embed a single text (the per-message hot path)."""
        return self.encode([text])[0]

    def fine_tune(self, entries: Sequence["FaqEntry"], config: Optional["FinetuneConfig"] = None,
                  progress: Optional[Callable[[int, int], None]] = None) -> Dict[str, object]:
        """Train this encoder on the kb's phrasings (see :mod:`bot.embedding.finetune`); its fingerprint changes.

        Training uses every CPU core; the thread setting is restored afterwards.
        """
        import torch

        from bot.embedding.finetune import FinetuneConfig, finetune

        config = config or FinetuneConfig()
        threads = torch.get_num_threads()
        torch.set_num_threads(os.cpu_count() or 1)
        try:
            summary = finetune(self._model, entries, config, progress)
        finally:
            torch.set_num_threads(threads)
        payload = json.dumps([sorted(e.embedding_key() for e in entries), asdict(config)])
        self.fingerprint = f"{self.fingerprint}+ft{hashlib.sha256(payload.encode()).hexdigest()[:12]}"
        return summary

    def save(self, directory: Path, summary: Dict[str, object]) -> Path:
        """Write a fine-tuned copy of this model (base files plus the tuned weights) to ``directory``."""
        from bot.embedding.finetune import save_finetuned

        return save_finetuned(self._model, Path(self.name), directory, summary)
