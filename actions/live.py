"""The published FAQ index of each agency, followed across kb builds without a restart."""

from __future__ import annotations

from typing import Dict, Optional, Tuple

from bot.config.agencies import Agencies
from bot.config.settings import get_settings
from bot.retrieval.index import FaqIndex
from bot.retrieval.store import IndexStore

_stores: Dict[str, IndexStore] = {}
_agencies: Dict[Tuple[str, str], Agencies] = {}  # agencies.yml is read once per process, not per message


def live_index(agency: Optional[str] = None) -> FaqIndex:
    """The index the kb watcher published last for ``agency`` (None: the default agency).

    Raises:
        UnknownAgency: no such agency in this deployment.
        FileNotFoundError: nothing published yet for it.
    """
    settings = get_settings()
    key = (str(settings.agencies_file), str(settings.kb_dir))
    if key not in _agencies:
        _agencies[key] = settings.agencies()
    directory = _agencies[key].get(agency).index_dir(settings.index_dir)
    if str(directory) not in _stores:
        _stores[str(directory)] = IndexStore(directory)
    return _stores[str(directory)].current()
