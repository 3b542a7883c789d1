"""Watch kb/ and publish a new index after each change (the bot follows without restart)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

from bot.config.settings import Settings
from bot.kb.loader import kb_files
from bot.publish.each_agency import publish_each
from bot.retrieval.assembly import kb_tuner
from bot.retrieval.index import TextEncoder
from bot.run.log_format import configure_logging

log = logging.getLogger("auskunft.kb_watch")
Snapshot = Dict[str, Tuple[int, int]]


def snapshot(*roots: Path) -> Snapshot:
    """(mtime, size) of every kb file under ``roots``: cheap enough to take every second."""
    state: Snapshot = {}
    for root in roots:
        for path in kb_files(root) if root.is_dir() else []:
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            state[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return state


def rebuild(settings: Settings, encoder: TextEncoder,
            tune_for_kb: Optional[Callable[..., TextEncoder]] = None) -> bool:
    """Build and publish every agency's index; a broken kb is logged and that agency keeps its last good index.

    Agencies whose layers did not change are skipped cheaply (same content hash, same version).
    """
    ok = True
    try:
        for build in publish_each(settings, settings.agencies(), encoder, tune_for_kb):
            report = build.report
            if report is None:
                log.error("%skb change rejected, the bot keeps the last good index:\n%s", build.label, build.error)
                ok = False
            elif not report.unchanged:
                log.info("%sindex %s published: %d entries, %d embedded, %.2f s",
                         build.label, report.version, report.entries, report.embedded, report.seconds)
    except OSError as err:  # a full disk, a read-only or vanished mount: the watcher itself keeps running
        where = f" ({err.filename})" if err.filename else ""
        log.error("index NOT published: %s%s; the bot keeps the last good index. Free space or fix %s; the next "
                  "kb change publishes again", err.strerror or type(err).__name__, where, settings.index_dir)
        return False
    return ok


def watch(settings: Settings, encoder: TextEncoder, interval: float = 1.0,
          max_cycles: Optional[int] = None) -> None:
    """Poll the kb every ``interval`` seconds and rebuild on change.

    Polling (not inotify) works the same on shared drives and network mounts,
    where editors often keep the kb.
    """
    if settings.log_format == "json":
        configure_logging("json", "watcher")
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s kb-watch %(message)s")
    tuner = kb_tuner(settings, encoder)
    roots = settings.agencies().layer_dirs()
    last = snapshot(*roots)
    rebuild(settings, encoder, tuner)
    _unload(encoder)
    cycles = 0
    while max_cycles is None or cycles < max_cycles:
        time.sleep(interval)
        cycles += 1
        current = snapshot(*roots)
        if current != last:
            last = current
            rebuild(settings, encoder, tuner)
            _unload(encoder)


def _unload(encoder: TextEncoder) -> None:
    """Between builds the watcher holds no model (~300 MB): the next change loads it again (about a second)."""
    unload = getattr(encoder, "unload", None)
    if callable(unload):
        unload()
