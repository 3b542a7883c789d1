"""Gauges read when Prometheus scrapes: outbox depth and age, the published index version per agency.

A service registers *sources* (plain callables) under a name; the one collector asks each source at scrape time,
so the numbers are never stale and nothing polls between scrapes. A source that fails (database down) is logged
and reported as ``auskunft_metrics_source_up{source=...} 0``; the scrape itself never fails.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Dict, Iterable, Iterator, Mapping, NamedTuple, Optional

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.metrics.definitions import safe_label

log = logging.getLogger(__name__)


class OutboxDepth(NamedTuple):
    """What waits in one outbox.

    Attributes:
        kind: the outbox's kind (``ticket``, ``helpdesk:zammad``, ...).
        pending: items still to deliver.
        dead: dead letters (given up on, waiting for a person).
        oldest_age_seconds: age of the oldest item still to deliver; 0 when none waits.
    """

    kind: str
    pending: int
    dead: int
    oldest_age_seconds: float


IndexVersions = Mapping[str, Optional[str]]
"""Agency key -> the version named in its ``CURRENT`` (None before the first publish)."""

OutboxSource = Callable[[], Iterable[OutboxDepth]]
IndexSource = Callable[[], IndexVersions]

_lock = threading.Lock()
_outbox_sources: Dict[str, OutboxSource] = {}
_index_sources: Dict[str, IndexSource] = {}


def set_outbox_source(name: str, source: Optional[OutboxSource]) -> None:
    """Report the outboxes ``source`` returns under ``store=name`` (None removes it; a second call replaces it)."""
    with _lock:
        if source is None:
            _outbox_sources.pop(name, None)
        else:
            _outbox_sources[name] = source


def set_index_source(name: str, source: Optional[IndexSource]) -> None:
    """Report the index versions ``source`` returns (None removes it; a second call replaces it)."""
    with _lock:
        if source is None:
            _index_sources.pop(name, None)
        else:
            _index_sources[name] = source


class ScrapeTimeCollector(Collector):
    """Asks the registered sources at every scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The outbox and index gauges, and whether each source answered."""
        with _lock:
            outboxes, indexes = dict(_outbox_sources), dict(_index_sources)
        up = GaugeMetricFamily("auskunft_metrics_source_up", "1 if the source answered at this scrape, 0 if it "
                               "failed (see the service's log)", labels=["source"])
        pending = GaugeMetricFamily("auskunft_outbox_pending", "Items still to deliver", labels=["store", "kind"])
        dead = GaugeMetricFamily("auskunft_outbox_dead_letters", "Items given up on, waiting for a person",
                                 labels=["store", "kind"])
        age = GaugeMetricFamily("auskunft_outbox_oldest_age_seconds", "Age of the oldest item still to deliver "
                                "(0 when none waits)", labels=["store", "kind"])
        for name, source in outboxes.items():
            try:
                depths = list(source())
            except Exception as error:  # a scrape must not fail because the database is away
                log.warning("metrics: outbox source %s failed: %s", name, type(error).__name__)
                up.add_metric([f"outbox:{safe_label(name)}"], 0)
                continue
            up.add_metric([f"outbox:{safe_label(name)}"], 1)
            for depth in depths:
                labels = [safe_label(name), safe_label(depth.kind)]
                pending.add_metric(labels, depth.pending)
                dead.add_metric(labels, depth.dead)
                age.add_metric(labels, max(0.0, depth.oldest_age_seconds))
        info = GaugeMetricFamily("auskunft_index_version_info", "The published index version each agency's "
                                 "CURRENT names (value 1)", labels=["agency", "version"])
        for name, index_source in indexes.items():
            try:
                versions = dict(index_source())
            except Exception as error:
                log.warning("metrics: index source %s failed: %s", name, type(error).__name__)
                up.add_metric([f"index:{safe_label(name)}"], 0)
                continue
            up.add_metric([f"index:{safe_label(name)}"], 1)
            for agency, version in versions.items():
                info.add_metric([safe_label(agency), safe_label(version)], 1)
        yield from (up, pending, dead, age, info)


COLLECTOR = ScrapeTimeCollector()
REGISTRY.register(COLLECTOR)
