"""The published FAQ index of each agency, followed across kb builds without a restart."""

from __future__ import annotations

from typing import Dict, Optional

from bot.agencies import Agencies
from bot.retrieval.index import FaqIndex
from bot.retrieval.store import IndexStore
from bot.settings import get_settings

_stores: Dict[str, IndexStore] = {}
_agencies: Dict[str, Agencies] = {}


def live_index(agency: Optional[str] = None) -> FaqIndex:
    """The index the kb watcher published last for ``agency`` (None: the default agency).

    Raises:
        UnknownAgency: no such agency in this deployment.
        FileNotFoundError: nothing published yet for it.
    """
    settings = get_settings()
    agencies = _agencies.setdefault("", settings.agencies())
    directory = agencies.get(agency).index_dir(settings.index_dir)
    store = _stores.setdefault(str(directory), IndexStore(directory))
    return store.current()
