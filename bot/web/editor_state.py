"""What the editor pages keep between requests: one searcher per agency, Rasa's tracker database, analytics.

Created empty with the app; the embedding model is loaded into the web process only when an editor first
needs it (:meth:`EditorResources.searcher`), so citizens never pay for it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from sqlalchemy.engine import Engine

from bot.config.agencies import Agencies, Agency
from bot.config.settings import PROJECT_ROOT, Settings
from bot.retrieval.searcher import FaqSearcher
from bot.run.runtime_env import child_env

logger = logging.getLogger(__name__)
# (days, index version, without the tracker log, agency) -> (computed at, monotonic; computed at, wall clock; figures)
AnalyticsKey = Tuple[int, str, bool, str]
AnalyticsEntry = Tuple[float, datetime, Any]


@dataclass
class EditorResources:
    """The editor pages' expensive parts, each made on first use and kept for the app's lifetime.

    Args:
        settings: the app's settings (model, index directory, ``endpoints.yml``).
        agencies: the deployment's agencies (each has its own published index).
    """

    settings: Settings
    agencies: Agencies
    analytics: Dict[AnalyticsKey, AnalyticsEntry] = field(default_factory=dict)
    _searchers: Dict[str, FaqSearcher] = field(default_factory=dict)
    _tracker_engine: Optional[Engine] = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def searcher(self, agency: Optional[Agency] = None) -> FaqSearcher:
        """The searcher over the agency's published index (None: the default agency); the first call loads the model.

        Raises:
            OSError: the embedding model cannot be loaded (e.g. not provisioned).
        """
        agency = agency or self.agencies.default
        with self._lock:
            if agency.key not in self._searchers:
                from bot.retrieval.assembly import searcher  # loads torch: only when a preview is asked for

                started = time.perf_counter()
                self._searchers[agency.key] = searcher(self.settings, agency)
                logger.info("editor pages: searcher for %s ready in %.1f s", agency.key, time.perf_counter() - started)
            return self._searchers[agency.key]

    def tracker_engine(self) -> Optional[Engine]:
        """Rasa's tracker database (read only), from ``endpoints.yml`` as the eraser reads it; kept once found.

        None while there is none to read (not an SQL store, or its SQLite file does not exist yet: asked again
        next time) or when ``endpoints.yml`` cannot be used (logged); the analytics then count tickets only.
        """
        if self._tracker_engine is not None:
            return self._tracker_engine
        from bot.editor.usage import tracker_engine

        settings = self.settings
        endpoints = settings.endpoints if settings.endpoints.startswith("/") else str(PROJECT_ROOT / settings.endpoints)
        try:
            self._tracker_engine = tracker_engine(Path(endpoints), child_env(settings))
        except (OSError, ValueError) as err:
            logger.warning("editor analytics: cannot read the tracker store (%s); counting tickets only", err)
        return self._tracker_engine

    def close(self) -> None:
        """Release the tracker database's connections."""
        if self._tracker_engine is not None:
            self._tracker_engine.dispose()
