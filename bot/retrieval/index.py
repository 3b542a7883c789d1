"""An in-memory FAQ index.

Each entry is scored by combining two cosine similarities to the query:
its best-matching phrasing (title or a listed question), and its answer text
embedded as a document. ``answer_weight`` sets the mix (0 = phrasings only);
the combined score stays on the cosine scale, so thresholds keep their meaning.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List, Optional, Protocol, Sequence

import numpy as np

from bot.kb.entry import FaqEntry
from bot.kb.loader import KnowledgeBase
from bot.language import LanguageGuesser
from bot.retrieval.cache import EmbeddingCache

FORMAT_VERSION = 2
DEFAULT_ANSWER_WEIGHT = 2.0


class TextEncoder(Protocol):
    """What the index needs from an encoder."""

    fingerprint: str
    dim: int

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, progress: bool = False, passage: bool = False
    ) -> np.ndarray:
        """Embed texts as L2-normalised rows."""


@dataclass(frozen=True)
class Candidate:
    """One FAQ entry ranked for a query."""

    faq_id: str
    score: float
    title: str
    matched: str
    lang: str
    source: str

    def to_dict(self) -> Dict[str, object]:
        """A JSON-ready dict (scores rounded to 4 places)."""
        data = asdict(self)
        data["score"] = round(self.score, 4)
        return data


@dataclass(frozen=True)
class EntryRecord:
    """What the index keeps of an entry to answer with."""

    id: str
    title: str
    lang: str
    source: str
    owner: str
    tags: List[str]
    answer: str
    phrasings: List[str]


class FaqIndex:
    """Phrasing and answer embeddings plus the entry data needed to answer.

    Args:
        records: the entries, in index order.
        vectors: one L2-normalised row per phrasing, grouped by entry in record order.
        owners: for each phrasing row, the position of its entry in ``records``.
        answers: one L2-normalised row per entry: its answer embedded as a document.
        meta: build information (version, kb hash, model fingerprint, time).
        answer_weight: weight of the answer similarity against the best phrasing.

    Raises:
        ValueError: the arrays do not fit together, or ``answer_weight`` is negative.
    """

    def __init__(
        self,
        records: List[EntryRecord],
        vectors: np.ndarray,
        owners: np.ndarray,
        answers: np.ndarray,
        meta: Dict[str, object],
        answer_weight: float = DEFAULT_ANSWER_WEIGHT,
    ) -> None:
        if vectors.shape[0] != owners.shape[0]:
            raise ValueError(f"{vectors.shape[0]} phrasing vectors but {owners.shape[0]} owner rows")
        if answers.shape[0] != len(records):
            raise ValueError(f"{answers.shape[0]} answer vectors for {len(records)} entries")
        if answer_weight < 0:
            raise ValueError(f"answer_weight must be >= 0, got {answer_weight}")
        self.records = records
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.owners = owners.astype(np.int64)
        self.answers = np.ascontiguousarray(answers, dtype=np.float32)
        self.meta = meta
        self.answer_weight = answer_weight
        self._by_id = {record.id: record for record in records}
        self._entry_lang = np.array([r.lang for r in records])
        self._starts = np.searchsorted(self.owners, np.arange(len(records)))
        if len(records) and np.any(np.bincount(self.owners, minlength=len(records)) == 0):
            raise ValueError("every entry needs at least one phrasing vector")
        self.languages = LanguageGuesser.from_texts(
            {lang: [t for r in records if r.lang == lang for t in (*r.phrasings, r.answer)]
             for lang in sorted(set(self._entry_lang.tolist()))}
        )

    @property
    def version(self) -> str:
        """Identifies the kb content and the model this index was built from."""
        return str(self.meta.get("version", ""))

    def entry(self, faq_id: str) -> Optional[EntryRecord]:
        """The entry with this id, if present."""
        return self._by_id.get(faq_id)

    def scores(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-entry combined scores and per-phrasing similarities for one query vector."""
        sims = self.vectors @ query.astype(np.float32)
        best = np.maximum.reduceat(sims, self._starts)
        combined = (best + self.answer_weight * (self.answers @ query)) / (1.0 + self.answer_weight)
        return combined, sims

    def search(self, query: np.ndarray, k: int = 5, lang: Optional[str] = None) -> List[Candidate]:
        """Rank entries for a query vector.

        Args:
            query: the L2-normalised query embedding.
            k: how many entries to return.
            lang: restrict to entries in this language when the kb has any.
        """
        return self.search_with_best(query, k, lang)[0]

    def search_with_best(
        self, query: np.ndarray, k: int = 5, lang: Optional[str] = None
    ) -> tuple[List[Candidate], float]:
        """:meth:`search`, plus the similarity of the closest phrasing in any language (one matrix product)."""
        if not self.records:
            return [], 0.0
        combined, sims = self.scores(query)
        if lang is not None and np.any(self._entry_lang == lang):
            combined = np.where(self._entry_lang == lang, combined, -np.inf)
        ranked = [int(i) for i in np.argsort(-combined, kind="stable")[:k] if np.isfinite(combined[i])]
        result = []
        for i in ranked:
            record, first = self.records[i], int(self._starts[i])
            matched = record.phrasings[int(np.argmax(sims[first : first + len(record.phrasings)]))]
            result.append(Candidate(record.id, float(combined[i]), record.title, matched, record.lang, record.source))
        return result, float(sims.max())

    def save(self, directory: Path) -> None:
        """Write the index to a directory (``entries.json`` and three ``.npy`` arrays)."""
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "vectors.npy", self.vectors, allow_pickle=False)
        np.save(directory / "owners.npy", self.owners, allow_pickle=False)
        np.save(directory / "answers.npy", self.answers, allow_pickle=False)
        payload = {"format": FORMAT_VERSION, "meta": self.meta, "answer_weight": self.answer_weight,
                   "entries": [asdict(r) for r in self.records]}
        (directory / "entries.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "FaqIndex":
        """Read an index written by :meth:`save`.

        Raises:
            ValueError: the directory holds another format version.
            FileNotFoundError: a file is missing.
        """
        payload = json.loads((directory / "entries.json").read_text(encoding="utf-8"))
        if payload.get("format") != FORMAT_VERSION:
            raise ValueError(f"{directory}: index format {payload.get('format')}, expected {FORMAT_VERSION}")
        return cls(
            [EntryRecord(**item) for item in payload["entries"]],
            np.load(directory / "vectors.npy", allow_pickle=False),
            np.load(directory / "owners.npy", allow_pickle=False),
            np.load(directory / "answers.npy", allow_pickle=False),
            payload["meta"],
            float(payload["answer_weight"]),
        )


def index_version(kb_hash: str, model_fingerprint: str, answer_weight: float = DEFAULT_ANSWER_WEIGHT) -> str:
    """The version name of an index: kb content, model and scoring, hashed (12 hex digits)."""
    return hashlib.sha256(f"{kb_hash}:{model_fingerprint}:{answer_weight}".encode()).hexdigest()[:12]


def _embed_entries(
    entries: Sequence[FaqEntry], encoder: TextEncoder, progress: Optional[Callable[[int, int], None]], done: int,
    total: int, cache: Optional[EmbeddingCache],
) -> Dict[str, np.ndarray]:
    """Embed entries in chunks: each block is the phrasing rows followed by the answer row."""
    blocks: Dict[str, np.ndarray] = {}
    for start in range(0, len(entries), 16):
        chunk = entries[start : start + 16]
        phrasings = encoder.encode([t for e in chunk for t in e.phrasings])
        passages = encoder.encode([e.passage for e in chunk], passage=True)
        offset = 0
        for position, entry in enumerate(chunk):
            rows = phrasings[offset : offset + len(entry.phrasings)]
            offset += len(entry.phrasings)
            blocks[entry.id] = np.vstack([rows, passages[position : position + 1]])
            if cache:
                cache.put(entry.embedding_key(), blocks[entry.id])
        done += len(chunk)
        if progress:
            progress(done, total)
    return blocks


def build_index(
    kb: KnowledgeBase,
    encoder: TextEncoder,
    cache: Optional[EmbeddingCache] = None,
    progress: Optional[Callable[[int, int], None]] = None,
    answer_weight: float = DEFAULT_ANSWER_WEIGHT,
) -> FaqIndex:
    """Embed every entry; entries found in the cache (same content, same model) are not re-embedded.

    Args:
        kb: the validated knowledge base.
        encoder: the sentence encoder.
        cache: embeddings by entry hash; None embeds everything.
        progress: called with (entries done, entries total).
        answer_weight: see :class:`FaqIndex`.

    Returns:
        The index; ``meta['embedded']`` counts the entries embedded anew.
    """
    entries: Sequence[FaqEntry] = kb.entries
    blocks: Dict[str, np.ndarray] = {}
    todo = []
    for entry in entries:
        cached = cache.get(entry.embedding_key()) if cache else None
        if cached is not None and cached.shape == (len(entry.phrasings) + 1, encoder.dim):
            blocks[entry.id] = cached
        else:
            todo.append(entry)
    if progress:
        progress(len(entries) - len(todo), len(entries))
    blocks.update(_embed_entries(todo, encoder, progress, len(entries) - len(todo), len(entries), cache))
    records = [
        EntryRecord(e.id, e.title, e.lang, e.source, e.owner, list(e.tags), e.answer, list(e.phrasings))
        for e in entries
    ]
    dim = encoder.dim
    vectors = np.concatenate([blocks[e.id][:-1] for e in entries]) if entries else np.zeros((0, dim))
    answers = np.stack([blocks[e.id][-1] for e in entries]) if entries else np.zeros((0, dim))
    owners = np.concatenate([np.full(len(e.phrasings), i) for i, e in enumerate(entries)]) if entries else np.zeros(0)
    meta: Dict[str, object] = {
        "version": index_version(kb.content_hash, encoder.fingerprint, answer_weight),
        "kb_hash": kb.content_hash,
        "model": encoder.fingerprint,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "entries": len(entries),
        "phrasings": int(vectors.shape[0]),
        "embedded": len(todo),
    }
    return FaqIndex(records, vectors, owners, answers, meta, answer_weight)
