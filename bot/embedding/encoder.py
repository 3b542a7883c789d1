"""The query encoder a process uses, chosen once per model: ONNX Runtime by default, sentence-transformers on request.

Serving processes never import torch: :func:`shared_encoder` loads
:class:`bot.embedding.onnx_encoder.OnnxEncoder` whenever the model directory holds its ONNX graph
(``auskunft model provision`` and fine-tuning write it). The sentence-transformers
:class:`bot.embedding.st_encoder.Encoder` (the ``train`` extra) is for fine-tuning and for
models without a graph (a hub name, a directory someone else wrote).
"""

from __future__ import annotations

import ctypes
import hashlib
import threading
from pathlib import Path
from typing import Dict, Optional, Protocol, Sequence, Tuple

import numpy as np

BACKENDS = ("onnx", "onnx-int8", "sentence-transformers")


class QueryEncoder(Protocol):
    """What every encoder offers: vectors, their width, and an identity of the weights."""

    name: str
    dim: int
    fingerprint: str
    threads: int

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False,
               passage: bool = False) -> np.ndarray:
        """L2-normalised float32 rows."""

    def encode_one(self, text: str) -> np.ndarray:
        """One row."""


def load_encoder(model: str, threads: int = 1, backend: str = "onnx", lazy: bool = False) -> QueryEncoder:
    """A new encoder of ``model`` (see :func:`shared_encoder` for one per process).

    Args:
        model: a model directory (or, for sentence-transformers, a hub name).
        threads: intra-op threads.
        backend: ``onnx`` (fp32 graph), ``onnx-int8`` or ``sentence-transformers``. An ONNX backend
            falls back to sentence-transformers for a model without a graph, if that is installed.
        lazy: an ONNX encoder loads its weights on first use (the directory is checked now).

    Raises:
        ValueError: unknown backend.
        FileNotFoundError: no ONNX graph and no sentence-transformers to fall back on (says what to run).
    """
    if backend not in BACKENDS:
        raise ValueError(f"encoder backend must be one of {BACKENDS}, got {backend!r}")
    if backend != "sentence-transformers":
        from bot.embedding.onnx_encoder import OnnxEncoder, has_onnx

        precision = "int8" if backend == "onnx-int8" else "fp32"
        if has_onnx(Path(model), precision) or not _sentence_transformers_installed():
            return OnnxEncoder(model, threads=threads, precision=precision, lazy=lazy)
    from bot.embedding.st_encoder import Encoder

    return Encoder(model, threads=threads)


_ENCODERS: Dict[Tuple[str, int, str], QueryEncoder] = {}
_LOCK = threading.Lock()


def shared_encoder(model: str, threads: int = 1, backend: str = "onnx") -> QueryEncoder:
    """One encoder per (model, threads, backend) in a process: the weights are loaded once, on first use."""
    key = (model, threads, backend)
    with _LOCK:
        if key not in _ENCODERS:
            _ENCODERS[key] = load_encoder(model, threads, backend, lazy=True)
        return _ENCODERS[key]


def _sentence_transformers_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("sentence_transformers") is not None


def release_free_memory() -> None:
    """Return freed heap to the operating system (glibc keeps ~250 MB after a model load otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # not glibc: nothing to do
        pass


def model_fingerprint(model: str) -> str:
    """A short identity of a model's weights (name or directory), without loading it."""
    return fingerprint_of(model, None)


def fingerprint_of(model: str, prompt: Optional[str]) -> str:
    """Identify the model's weights and query prompt so cached embeddings are never mixed across models."""
    path = Path(model)
    digest = hashlib.sha256(f"{prompt}".encode())
    manifest = path / "auskunft-model.json"
    if manifest.is_file():
        digest.update(manifest.read_bytes())
        tuned = path / "auskunft-finetune.json"
        if tuned.is_file():
            digest.update(tuned.read_bytes())
    elif path.is_dir():
        for part in sorted(path.rglob("*.json")) + sorted(path.glob("*.safetensors")):
            stat = part.stat()
            digest.update(f"{part.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    else:
        digest.update(model.encode())
    return digest.hexdigest()[:16]
