"""The published FAQ index, followed across kb builds without a restart."""

from __future__ import annotations

from typing import Dict

from bot.retrieval.index import FaqIndex
from bot.retrieval.store import IndexStore
from bot.settings import get_settings

_stores: Dict[str, IndexStore] = {}


def live_index() -> FaqIndex:
    """The index the kb watcher published last."""
    directory = get_settings().index_dir
    store = _stores.setdefault(str(directory), IndexStore(directory))
    return store.current()
