"""An in-memory FAQ index.

Each entry is scored by mixing three signals about the query:
its best-matching phrasing (title or a listed question, cosine similarity), its
best-matching answer passage (cosine similarity; long answers are split into
passages), and keyword overlap (normalised BM25 over stems and compound parts).
``answer_weight`` and ``lexical_weight`` set the mix (0 switches a signal off); the
result is a weighted mean on the cosine scale, so thresholds keep their meaning.
When the index carries an adapter (see :mod:`bot.retrieval.adapter`), query and kb
vectors are mapped by it before the cosine similarities are taken.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Dict, List, Optional, Protocol, Sequence

import numpy as np

from bot.retrieval.adapter import normalise_rows
from bot.retrieval.language import LanguageGuesser
from bot.retrieval.lexical import LexicalScorer

FORMAT_VERSION = 3
DEFAULT_ANSWER_WEIGHT = 2.0
DEFAULT_LEXICAL_WEIGHT = 0.25  # chosen on dev splits by bench/weights.py (see README)
PASSAGE_SCHEME = "p600"


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
    plain: Optional[str] = None  # the answer in plain language (Einfache Sprache), if the entry has one
    review_by: Optional[str] = None  # ISO date by which the entry must be reviewed

    def overdue(self, today: date) -> bool:
        """Whether the entry's review date has passed."""
        return bool(self.review_by) and date.fromisoformat(str(self.review_by)) < today


class FaqIndex:
    """Phrasing and answer embeddings plus the entry data needed to answer.

    Args:
        records: the entries, in index order.
        vectors: one L2-normalised row per phrasing, grouped by entry in record order.
        owners: for each phrasing row, the position of its entry in ``records``.
        answers: L2-normalised rows of answer passages, grouped by entry in record order.
        answer_owners: for each passage row, the position of its entry in ``records``.
        meta: build information (version, kb hash, model fingerprint, time).
        answer_weight: weight of the best passage similarity against the best phrasing.
        lexical_weight: weight of the keyword score against the best phrasing.
        adapter: a (dim x dim) map trained on the kb, applied to all vectors; None = identity.

    Raises:
        ValueError: the arrays do not fit together, or a weight is negative.
    """

    def __init__(
        self,
        records: List[EntryRecord],
        vectors: np.ndarray,
        owners: np.ndarray,
        answers: np.ndarray,
        answer_owners: np.ndarray,
        meta: Dict[str, object],
        answer_weight: float = DEFAULT_ANSWER_WEIGHT,
        lexical_weight: float = DEFAULT_LEXICAL_WEIGHT,
        adapter: Optional[np.ndarray] = None,
    ) -> None:
        if vectors.shape[0] != owners.shape[0]:
            raise ValueError(f"{vectors.shape[0]} phrasing vectors but {owners.shape[0]} owner rows")
        if answers.shape[0] != answer_owners.shape[0]:
            raise ValueError(f"{answers.shape[0]} passage vectors but {answer_owners.shape[0]} owner rows")
        for name, weight in (("answer_weight", answer_weight), ("lexical_weight", lexical_weight)):
            if weight < 0:
                raise ValueError(f"{name} must be >= 0, got {weight}")
        self.records = records
        if adapter is not None and adapter.shape != (vectors.shape[1], vectors.shape[1]):
            raise ValueError(f"adapter of shape {adapter.shape} does not fit {vectors.shape[1]}-dim vectors")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.owners = owners.astype(np.int64)
        self.answers = np.ascontiguousarray(answers, dtype=np.float32)
        self.adapter = None if adapter is None else np.ascontiguousarray(adapter, dtype=np.float32)
        self._mapped = self.vectors if self.adapter is None else normalise_rows(self.vectors @ self.adapter)
        self._mapped_answers = self.answers if self.adapter is None else normalise_rows(self.answers @ self.adapter)
        self.answer_owners = answer_owners.astype(np.int64)
        self.meta = meta
        self.answer_weight = answer_weight
        self.lexical_weight = lexical_weight
        self._by_id = {record.id: record for record in records}
        self._entry_lang = np.array([r.lang for r in records])
        self._starts = np.searchsorted(self.owners, np.arange(len(records)))
        self._answer_starts = np.searchsorted(self.answer_owners, np.arange(len(records)))
        for name, owners_of in (("phrasing", self.owners), ("passage", self.answer_owners)):
            if len(records) and np.any(np.bincount(owners_of, minlength=len(records)) == 0):
                raise ValueError(f"every entry needs at least one {name} vector")
        self.lexical = LexicalScorer([" ".join((*r.phrasings, r.answer)) for r in records],
                                     self._entry_lang.tolist()) if records and lexical_weight else None
        self.languages = LanguageGuesser.from_texts(
            {lang: [t for r in records if r.lang == lang for t in (*r.phrasings, r.answer)]
             for lang in sorted(set(self._entry_lang.tolist()))}
        )

    @property
    def version(self) -> str:
        """Identifies the kb content and the model this index was built from."""
        return str(self.meta.get("version", ""))

    def reweighted(self, answer_weight: float, lexical_weight: float) -> "FaqIndex":
        """The same embeddings with another mix of signals (baselines, weight studies)."""
        return FaqIndex(self.records, self.vectors, self.owners, self.answers, self.answer_owners, dict(self.meta),
                        answer_weight, lexical_weight, self.adapter)

    def without_adapter(self) -> "FaqIndex":
        """The same index scored in the model's own embedding space."""
        return FaqIndex(self.records, self.vectors, self.owners, self.answers, self.answer_owners, dict(self.meta),
                        self.answer_weight, self.lexical_weight)

    def entry(self, faq_id: str) -> Optional[EntryRecord]:
        """The entry with this id, if present."""
        return self._by_id.get(faq_id)

    def scores(self, query: np.ndarray, text: str = "", lang: str = "de") -> tuple[np.ndarray, np.ndarray]:
        """Per-entry combined scores and per-phrasing similarities for one query (vector and text).

        With an adapter, both are taken in the adapter's space: measured on dev splits, its
        scores separate right from wrong answers better than the model's own (answered
        correctly on CLINC150-10 dev 0.77 against 0.44 at a similar wrong-answer rate).
        """
        query = query.astype(np.float32)
        if self.adapter is not None:
            query = normalise_rows(query @ self.adapter)
        sims = self._mapped @ query
        combined = np.maximum.reduceat(sims, self._starts)
        if self.answer_weight:
            combined = combined + self.answer_weight * np.maximum.reduceat(self._mapped_answers @ query,
                                                                           self._answer_starts)
        if self.lexical_weight and self.lexical is not None and text:
            combined = combined + self.lexical_weight * self.lexical.scores(text, lang)
        return combined / (1.0 + self.answer_weight + self.lexical_weight), sims

    def held_out_scores(self, row: int) -> np.ndarray:
        """Per-entry combined scores for phrasing ``row`` used as a query, with that row itself left out.

        Its entry then competes with its other phrasings and its passages: a stand-in for a citizen's
        unseen wording, used to calibrate thresholds without labels (:mod:`bot.calibration`). When the
        title is the entry's one phrasing, every entry is scored by its passages in place of its
        phrasings: left out alone, the title would meet the other entries' titles, which are worded like
        it, and the stand-in would be far harder than a citizen's question about the text (on Integreat
        the calibration then answered nothing). Entries in other languages score ``-inf``.

        Raises:
            IndexError: ``row`` is not a phrasing row.
        """
        if not 0 <= row < len(self.owners):
            raise IndexError(f"phrasing row {row} outside 0..{len(self.owners) - 1}")
        entry = int(self.owners[row])
        record = self.records[entry]
        query = self._mapped[row]
        sims = self._mapped @ query
        sims[row] = -np.inf
        passages = np.maximum.reduceat(self._mapped_answers @ query, self._answer_starts)
        phrasings = np.maximum.reduceat(sims, self._starts)
        if not np.isfinite(phrasings[entry]):  # the title was its one phrasing
            phrasings = passages
        combined = phrasings + self.answer_weight * passages
        if self.lexical_weight and self.lexical is not None:
            text = record.phrasings[row - int(self._starts[entry])]
            combined = combined + self.lexical_weight * self.lexical.scores(text, record.lang)
        combined = combined / (1.0 + self.answer_weight + self.lexical_weight)
        return np.where(self._entry_lang == record.lang, combined, -np.inf)

    def search(self, query: np.ndarray, k: int = 5, lang: Optional[str] = None, text: str = "") -> List[Candidate]:
        """Rank entries for a query.

        Args:
            query: the L2-normalised query embedding.
            k: how many entries to return.
            lang: restrict to entries in this language when the kb has any.
            text: the query text, for the keyword score (ignored if empty or ``lexical_weight`` is 0).
        """
        if not self.records:
            return []
        return self._rank(*self.scores(query, text, lang or "de"), k, lang)

    def search_with_best(
        self, query: np.ndarray, k: int = 5, lang: Optional[str] = None, text: str = ""
    ) -> tuple[List[Candidate], float]:
        """:meth:`search`, plus the closest phrasing's similarity in the model's own space (for intent routing)."""
        if not self.records:
            return [], 0.0
        combined, sims = self.scores(query, text, lang or "de")
        raw_best = float(sims.max()) if self.adapter is None else float((self.vectors @ query.astype(np.float32)).max())
        return self._rank(combined, sims, k, lang), raw_best

    def _rank(self, combined: np.ndarray, sims: np.ndarray, k: int, lang: Optional[str]) -> List[Candidate]:
        if lang is not None and np.any(self._entry_lang == lang):
            combined = np.where(self._entry_lang == lang, combined, -np.inf)
        ranked = [int(i) for i in np.argsort(-combined, kind="stable")[:k] if np.isfinite(combined[i])]
        result = []
        for i in ranked:
            record, first = self.records[i], int(self._starts[i])
            matched = record.phrasings[int(np.argmax(sims[first : first + len(record.phrasings)]))]
            result.append(Candidate(record.id, float(combined[i]), record.title, matched, record.lang, record.source))
        return result

    def save(self, directory: Path) -> None:
        """Write the index to a directory (``entries.json`` and four ``.npy`` arrays)."""
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "vectors.npy", self.vectors, allow_pickle=False)
        np.save(directory / "owners.npy", self.owners, allow_pickle=False)
        np.save(directory / "answers.npy", self.answers, allow_pickle=False)
        np.save(directory / "answer_owners.npy", self.answer_owners, allow_pickle=False)
        if self.adapter is not None:
            np.save(directory / "adapter.npy", self.adapter, allow_pickle=False)
        payload = {"format": FORMAT_VERSION, "meta": self.meta, "answer_weight": self.answer_weight,
                   "lexical_weight": self.lexical_weight, "entries": [asdict(r) for r in self.records]}
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
            np.load(directory / "answer_owners.npy", allow_pickle=False),
            payload["meta"],
            float(payload["answer_weight"]),
            float(payload["lexical_weight"]),
            np.load(directory / "adapter.npy", allow_pickle=False) if (directory / "adapter.npy").is_file() else None,
        )
