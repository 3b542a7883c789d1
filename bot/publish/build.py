"""The kb build step: validate kb/, embed what changed, publish a new index version atomically.

Independent of ``rasa train``; the running bot follows the published version.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

from bot.calibration.calibrate import METHOD as CALIBRATION
from bot.calibration.calibrate import Calibration, calibrate
from bot.kb.layers import load_layers
from bot.kb.loader import KnowledgeBase
from bot.publish.origin import kb_commit
from bot.retrieval.adapter import AdapterConfig
from bot.retrieval.builder import build_index, index_version, kb_profile
from bot.retrieval.cache import EmbeddingCache
from bot.retrieval.index import TextEncoder
from bot.retrieval.store import IndexStore


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    version: str
    entries: int
    phrasings: int
    embedded: int
    seconds: float
    unchanged: bool
    calibration: Optional[Calibration] = None  # the thresholds this build chose (None: unchanged or too small)


def build_and_publish(
    kb_dir: Union[Path, Sequence[Path]],
    index_dir: Path,
    cache_dir: Path,
    encoder: TextEncoder,
    progress: Optional[Callable[[int, int], None]] = None,
    answer_weight: Optional[float] = None,
    lexical_weight: Optional[float] = None,
    tune_for_kb: Optional[Callable[[KnowledgeBase], TextEncoder]] = None,
) -> BuildReport:
    """Validate the kb, build the index and make it live.

    Args:
        kb_dir: the markdown files: one directory, or layers (shared first; see :mod:`bot.kb.layers`).
        index_dir: where versions are published.
        cache_dir: embeddings by entry content hash.
        encoder: the sentence encoder as shipped.
        progress: called with (entries done, entries total).
        answer_weight: see :class:`~bot.retrieval.index.FaqIndex`; None: the kb's profile
            (:func:`~bot.retrieval.builder.kb_profile`).
        lexical_weight: see :class:`~bot.retrieval.index.FaqIndex`; None: the kb's profile.
        tune_for_kb: returns an encoder fine-tuned on the kb (see :mod:`bot.embedding.tuned`); the
            index is then built with it and names it in ``meta["query_model"]``, so that searchers
            embed questions with the same model.

    Raises:
        KbValidationError: the kb is invalid; the live index is left untouched.
    """
    started = time.perf_counter()
    layers = [kb_dir] if isinstance(kb_dir, Path) else list(kb_dir)
    kb = load_layers(layers).kb
    store = IndexStore(index_dir)
    if tune_for_kb is not None:
        encoder = tune_for_kb(kb)
    profile = kb_profile(kb, answer_weight, lexical_weight)
    version = index_version(kb.content_hash, encoder.fingerprint, profile.answer_weight, profile.lexical_weight,
                            AdapterConfig(), CALIBRATION)
    if store.live_version() == version and (index_dir / "versions" / version).is_dir():
        return BuildReport(version, len(kb.entries), 0, 0, time.perf_counter() - started, True)
    cache = EmbeddingCache(cache_dir, encoder.fingerprint)
    index = build_index(kb, encoder, cache, progress, answer_weight, lexical_weight, version_salt=CALIBRATION)
    calibration = calibrate(index, encoder, cache=cache)
    index.meta["calibration"] = calibration.to_meta() if calibration else None
    if tune_for_kb is not None:
        index.meta["query_model"] = str(getattr(encoder, "name", ""))
    commits = dict.fromkeys(c for c in map(kb_commit, layers) if c)
    index.meta["kb_commit"] = ",".join(commits) or None  # traceability: the text that was live (None outside git)
    store.publish(index)
    return BuildReport(
        version,
        len(kb.entries),
        int(index.meta["phrasings"]),  # type: ignore[call-overload]
        int(index.meta["embedded"]),  # type: ignore[call-overload]
        time.perf_counter() - started,
        False,
        calibration,
    )
