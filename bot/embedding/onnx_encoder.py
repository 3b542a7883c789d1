"""The serving encoder: the provisioned model's ONNX graph in ONNX Runtime, no torch.

Tokenised with ``tokenizers`` (the model's own ``tokenizer.json``), word embeddings looked up
in the 4-bit blocks, the transformer run by ONNX Runtime on one thread by default. The vectors
equal sentence-transformers' within float rounding (fp32 graph) or within int8 quantisation
(``encoder-int8.onnx``); ``tests/integration/test_onnx_encoder.py`` holds both to the torch model.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from bot.embedding.encoder import fingerprint_of, release_free_memory
from bot.embedding.onnx_export import FP32_FILE, INT8_FILE, ONNX_DIR
from bot.embedding.q4_rows import Q4Rows

PRECISIONS = ("fp32", "int8")


def has_onnx(model_dir: Path, precision: str = "fp32") -> bool:
    """Whether ``model_dir`` holds the ONNX graph of that precision."""
    return (model_dir / ONNX_DIR / (INT8_FILE if precision == "int8" else FP32_FILE)).is_file()


class OnnxEncoder:
    """Embeds queries and FAQ phrasings with a provisioned model's ONNX graph.

    Same interface as the sentence-transformers :class:`bot.embedding.encoder.Encoder` for
    everything but training (``encode``, ``encode_one``, ``name``, ``dim``, ``fingerprint``).

    Args:
        model: a model directory written by ``auskunft model provision`` (or a fine-tuned copy).
        threads: ONNX Runtime intra-op threads (1: a query takes a few ms; more only help batches).
        precision: ``fp32`` (the reference) or ``int8``.
        query_prompt: the prompt for queries and phrasings, if the model defines it.
        lazy: load the graph, tokenizer and word embeddings (~300 MB) on the first ``encode``, not now;
            the directory is checked now either way.

    Raises:
        ValueError: ``threads`` is not positive or ``precision`` unknown.
        FileNotFoundError: the directory or its ONNX graph is missing (the message says what to run).
    """

    def __init__(self, model: str, threads: int = 1, precision: str = "fp32",
                 query_prompt: Optional[str] = "query", lazy: bool = False) -> None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        directory = Path(model)
        if not has_onnx(directory, precision):
            raise FileNotFoundError(f"no ONNX graph ({precision}) in '{model}'; run 'auskunft model provision' "
                                    "(it writes onnx/ into the model directory)")
        prompts = _prompts(directory)
        self._prompt = prompts.get(query_prompt or "", "") if query_prompt in prompts else ""
        self._passage_prompt = prompts.get("passage", self._prompt)
        self._directory = directory
        self._lock = threading.Lock()
        self._parts: Optional[_Parts] = None
        self.name = model
        self.threads = threads
        self.precision = precision
        self.dim = int(json.loads((directory / "config.json").read_text(encoding="utf-8"))["hidden_size"])
        self.fingerprint = fingerprint_of(model, query_prompt if self._prompt else None)
        if precision != "fp32":
            self.fingerprint += f"+{precision}"
        if not lazy:
            self._load()

    @property
    def loaded(self) -> bool:
        """Whether the graph, tokenizer and word embeddings are in memory."""
        return self._parts is not None

    def unload(self) -> None:
        """Drop the graph, tokenizer and word embeddings (the next call loads them again)."""
        with self._lock:
            self._parts = None
        release_free_memory()

    def _load(self) -> "_Parts":
        with self._lock:
            if self._parts is None:
                self._parts = _Parts.load(self._directory, self.precision, self.threads)
            return self._parts

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False,
               passage: bool = False) -> np.ndarray:
        """Embed texts as L2-normalised float32 rows (longest first in batches, as sentence-transformers)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prompt = self._passage_prompt if passage else self._prompt
        parts = self._parts or self._load()
        encodings = parts.tokenizer.encode_batch([prompt + text for text in texts])
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        bar = _progress(len(texts)) if progress else None
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            out[chunk] = parts.run([encodings[i].ids for i in chunk])
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        return out

    def encode_one(self, text: str) -> np.ndarray:
        """Embed a single text (the per-message hot path)."""
        return self.encode([text])[0]


class _Parts:
    """What an encoder holds in memory once loaded: tokenizer, 4-bit word embeddings, ONNX session."""

    def __init__(self, tokenizer: Any, rows: Q4Rows, session: Any, pad_id: int) -> None:
        self.tokenizer = tokenizer
        self.rows = rows
        self.session = session
        self.pad_id = pad_id

    @classmethod
    def load(cls, directory: Path, precision: str, threads: int) -> "_Parts":
        import onnxruntime as ort
        from tokenizers import Tokenizer

        max_tokens = int(json.loads((directory / "sentence_bert_config.json").read_text()).get("max_seq_length", 256))
        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=max_tokens)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        graph = directory / ONNX_DIR / (INT8_FILE if precision == "int8" else FP32_FILE)
        session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        parts = cls(tokenizer, Q4Rows.from_directory(directory), session, int(tokenizer.token_to_id("<pad>") or 0))
        release_free_memory()
        return parts

    def run(self, ids: List[List[int]]) -> np.ndarray:
        width = max(len(row) for row in ids)
        padded = np.full((len(ids), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.float32)
        for i, row in enumerate(ids):
            padded[i, :len(row)] = row
            mask[i, :len(row)] = 1.0
        feeds = {"inputs_embeds": self.rows.lookup(padded), "attention_mask": mask}
        return np.asarray(self.session.run(["sentence_embedding"], feeds)[0], dtype=np.float32)


def _prompts(directory: Path) -> Dict[str, str]:
    path = directory / "config_sentence_transformers.json"
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("prompts") or {})


def _progress(total: int) -> Any:
    os.environ.setdefault("TQDM_DISABLE", "0")
    from tqdm import tqdm

    return tqdm(total=total, desc="Embedding", unit="text")
