"""The retrieval parts built from the settings, in one place.

The query encoder, the loader for models an index names (fine-tuned on the kb), the kb tuner
and a searcher per agency are made here for every process that needs them: the CLI, the kb
watcher, the editors' tools, the web service's preview and the Rasa component.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Dict, Optional

from bot.config.agencies import Agency
from bot.config.settings import Settings
from bot.embedding import encoder as embedding
from bot.embedding.encoder import QueryEncoder
from bot.retrieval.index import TextEncoder
from bot.retrieval.searcher import FaqSearcher
from bot.retrieval.store import IndexStore

KbTuner = Callable[[object], TextEncoder]
_stores: Dict[Path, IndexStore] = {}
_lock = threading.Lock()


def query_encoder(settings: Settings, model: Optional[str] = None, threads: Optional[int] = None) -> QueryEncoder:
    """The process-wide encoder of ``model`` (default: the configured one) on the configured backend, loaded once."""
    return embedding.shared_encoder(model or settings.model_name, threads or settings.encoder_threads,
                                    backend=settings.encoder)


def model_loader(settings: Settings, threads: Optional[int] = None) -> Callable[[str], QueryEncoder]:
    """Loads the model an index names in ``meta["query_model"]`` (same threads and backend, loaded once)."""
    return lambda model: embedding.shared_encoder(model, threads or settings.encoder_threads,
                                                  backend=settings.encoder)


def kb_tuner(settings: Settings, base: Optional[object] = None,
             progress: Optional[Callable[[int, int], None]] = None) -> Optional[KbTuner]:
    """The build's fine-tuning hook (``finetune_epochs`` > 0), None when fine-tuning is off."""
    if settings.finetune_epochs <= 0:
        return None
    from bot.embedding.tuned import kb_tuner as tuner_for  # sentence-transformers training: only when asked for

    return tuner_for(base if base is not None else query_encoder(settings),  # type: ignore[arg-type]
                     settings.finetune_epochs, settings.tuned_models_dir, progress, backend=settings.encoder)


def agency_store(settings: Settings, agency: Agency, index_root: Optional[Path] = None) -> IndexStore:
    """The published index versions of ``agency``: one store per directory and process, so the loaded index is kept."""
    directory = agency.index_dir(index_root or settings.index_dir).resolve()
    with _lock:
        if directory not in _stores:
            _stores[directory] = IndexStore(directory)
        return _stores[directory]


def searcher(settings: Settings, agency: Agency, *, encoder: Optional[object] = None, top_k: int = 5,
             index_root: Optional[Path] = None, threads: Optional[int] = None) -> FaqSearcher:
    """A searcher that follows ``agency``'s published index."""
    return FaqSearcher(encoder if encoder is not None else query_encoder(settings, threads=threads),
                       store=agency_store(settings, agency, index_root), top_k=top_k,
                       default_language=settings.default_language, load_encoder=model_loader(settings, threads))
