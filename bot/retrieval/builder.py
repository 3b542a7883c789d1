"""Build a :class:`~bot.retrieval.index.FaqIndex` from a validated kb: embed (cached), chunk, train the adapter."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from bot.kb.chunking import passages
from bot.kb.entry import FaqEntry
from bot.kb.loader import KnowledgeBase
from bot.retrieval.adapter import AdapterConfig, train_adapter
from bot.retrieval.cache import EmbeddingCache
from bot.retrieval.index import (
    DEFAULT_ANSWER_WEIGHT,
    DEFAULT_LEXICAL_WEIGHT,
    PASSAGE_SCHEME,
    EntryRecord,
    FaqIndex,
    TextEncoder,
)
from bot.retrieval.profile import PROFILE_SCHEME, ScoringProfile, choose_profile
from bot.retrieval.title_adapter import TitleAdapterConfig, train_title_adapter


def index_version(kb_hash: str, model_fingerprint: str, answer_weight: float = DEFAULT_ANSWER_WEIGHT,
                  lexical_weight: float = DEFAULT_LEXICAL_WEIGHT, adapter: Optional[AdapterConfig] = None,
                  salt: str = "") -> str:
    """The version name of an index: kb content, model and scoring (plus ``salt``), hashed (12 hex digits)."""
    adapter_key = adapter.key() if adapter else "none"
    key = f"{kb_hash}:{model_fingerprint}:{answer_weight}:{lexical_weight}:{PASSAGE_SCHEME}:{adapter_key}"
    key += f":{PROFILE_SCHEME}:{TitleAdapterConfig().key()}" if adapter else f":{PROFILE_SCHEME}"
    key += f":{salt}" if salt else ""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _cache_key(entry: FaqEntry) -> str:
    return f"{entry.embedding_key()}-{PASSAGE_SCHEME}"


def _embed_entries(
    entries: Sequence[FaqEntry], texts: Dict[str, List[str]], encoder: TextEncoder,
    progress: Optional[Callable[[int, int], None]], done: int, total: int, cache: Optional[EmbeddingCache],
) -> Dict[str, np.ndarray]:
    """Embed entries in chunks: each block is the phrasing rows followed by the passage rows."""
    blocks: Dict[str, np.ndarray] = {}
    for start in range(0, len(entries), 16):
        chunk = entries[start : start + 16]
        phrasings = encoder.encode([t for e in chunk for t in e.phrasings])
        documents = encoder.encode([p for e in chunk for p in texts[e.id]], passage=True)
        offset = passage_offset = 0
        for entry in chunk:
            rows = phrasings[offset : offset + len(entry.phrasings)]
            offset += len(entry.phrasings)
            count = len(texts[entry.id])
            blocks[entry.id] = np.vstack([rows, documents[passage_offset : passage_offset + count]])
            passage_offset += count
            if cache:
                cache.put(_cache_key(entry), blocks[entry.id])
        done += len(chunk)
        if progress:
            progress(done, total)
    return blocks


def kb_profile(kb: KnowledgeBase, answer_weight: Optional[float] = None,
               lexical_weight: Optional[float] = None) -> ScoringProfile:
    """The signal mix for ``kb``, chosen by its shape (:func:`~bot.retrieval.profile.choose_profile`).

    A value given here is taken instead of the profile's (studies, baselines, explicit settings).

    Raises:
        ValueError: a given value is out of range (see :class:`~bot.retrieval.profile.ScoringProfile`).
    """
    chosen = choose_profile([len(e.phrasings) for e in kb.entries])
    return ScoringProfile(
        chosen.name,
        chosen.answer_weight if answer_weight is None else answer_weight,
        chosen.lexical_weight if lexical_weight is None else lexical_weight,
        chosen.title_adapter,
    )


def train_kb_adapter(vectors: np.ndarray, owners: np.ndarray, config: AdapterConfig) -> Optional[np.ndarray]:
    """Train on the phrasings of entries that have paraphrases; None if too few entries have them."""
    counts = np.bincount(owners)
    grouped = np.flatnonzero(counts >= 2)
    if len(grouped) < config.min_entries:
        return None
    rows = np.isin(owners, grouped)
    return train_adapter(vectors[rows], np.searchsorted(grouped, owners[rows]), config)


def build_index(
    kb: KnowledgeBase,
    encoder: TextEncoder,
    cache: Optional[EmbeddingCache] = None,
    progress: Optional[Callable[[int, int], None]] = None,
    answer_weight: Optional[float] = None,
    lexical_weight: Optional[float] = None,
    adapter: Optional[AdapterConfig] = AdapterConfig(),
    version_salt: str = "",
) -> FaqIndex:
    """Embed every entry; entries found in the cache (same content, same model) are not re-embedded.

    Args:
        kb: the validated knowledge base.
        encoder: the sentence encoder.
        cache: embeddings by entry hash; None embeds everything.
        progress: called with (entries done, entries total).
        answer_weight: see :class:`FaqIndex`; None: the kb's profile (:func:`kb_profile`).
        lexical_weight: see :class:`FaqIndex`; None: the kb's profile.
        adapter: train a kb adapter with these settings (seconds); None = use the model's space as is. A kb
            without enough paraphrases gets the titles-only adapter instead when its profile asks for it
            (:mod:`bot.retrieval.title_adapter`).
        version_salt: also names the version (what the publisher adds after the build, e.g. its calibration).

    Returns:
        The index; ``meta['embedded']`` counts the entries embedded anew.
    """
    entries: Sequence[FaqEntry] = kb.entries
    profile = kb_profile(kb, answer_weight, lexical_weight)
    texts = {e.id: passages(e.title, e.answer) for e in entries}
    blocks: Dict[str, np.ndarray] = {}
    todo = []
    for entry in entries:
        cached = cache.get(_cache_key(entry)) if cache else None
        if cached is not None and cached.shape == (len(entry.phrasings) + len(texts[entry.id]), encoder.dim):
            blocks[entry.id] = cached
        else:
            todo.append(entry)
    if progress:
        progress(len(entries) - len(todo), len(entries))
    blocks.update(_embed_entries(todo, texts, encoder, progress, len(entries) - len(todo), len(entries), cache))
    records = [
        EntryRecord(e.id, e.title, e.lang, e.source, e.owner, list(e.tags), e.answer, list(e.phrasings),
                    plain=e.plain, review_by=e.review_by.isoformat() if e.review_by else None)
        for e in entries
    ]
    splits = [len(e.phrasings) for e in entries]
    vectors, answers = np.zeros((0, encoder.dim)), np.zeros((0, encoder.dim))
    owners, answer_owners = np.zeros(0), np.zeros(0)
    if entries:
        vectors = np.concatenate([blocks[e.id][:n] for e, n in zip(entries, splits, strict=True)])
        answers = np.concatenate([blocks[e.id][n:] for e, n in zip(entries, splits, strict=True)])
        owners = np.concatenate([np.full(n, i) for i, n in enumerate(splits)])
        answer_owners = np.concatenate([np.full(len(blocks[e.id]) - splits[i], i) for i, e in enumerate(entries)])
    meta: Dict[str, object] = {
        "version": index_version(kb.content_hash, encoder.fingerprint, profile.answer_weight, profile.lexical_weight,
                                 adapter, version_salt),
        "profile": profile.name,
        "kb_hash": kb.content_hash,
        "model": encoder.fingerprint,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "entries": len(entries),
        "phrasings": int(vectors.shape[0]),
        "embedded": len(todo),
        "passages": int(answers.shape[0]),
    }
    # A titles-only kb keeps its titles adapter when a few entries gain questions (accepted from tickets): a
    # paraphrase adapter trained on a handful of entries cost top-1 there (bench/replay.py, issue 18).
    learns_paraphrases = bool(entries) and not profile.title_adapter
    trained = train_kb_adapter(vectors, owners, adapter) if adapter and learns_paraphrases else None
    meta["adapter"] = adapter.key() if trained is not None and adapter else None
    if trained is None and adapter and entries and profile.title_adapter:
        config = TitleAdapterConfig()
        titles = vectors[np.searchsorted(owners, np.arange(len(entries)))]
        trained = train_title_adapter(titles, answers, answer_owners, config)
        meta["adapter"] = f"titles-{config.key()}" if trained is not None else None
    return FaqIndex(records, vectors, owners, answers, answer_owners, meta, profile.answer_weight,
                    profile.lexical_weight, trained)
