"""Published index versions on disk, with an atomic switch that running processes follow.

Layout::

    <root>/versions/<kb-hash>/   one complete index per published kb version
    <root>/CURRENT               the name of the live version (replaced atomically)

A builder writes a new version completely, then replaces ``CURRENT`` with
``os.replace``; a reader sees either the old or the new version, never a mix.
Readers call :meth:`IndexStore.current`, which costs one ``stat`` per call and
loads a new version only when ``CURRENT`` changed.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Optional, Tuple

from bot.retrieval.index import FaqIndex

log = logging.getLogger(__name__)
KEEP_VERSIONS = 5


class IndexStore:
    """Publishes and serves index versions under ``root``.

    Args:
        root: the index directory.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._loaded: Optional[Tuple[Tuple[int, int], str, FaqIndex]] = None

    @property
    def pointer(self) -> Path:
        """The file naming the live version."""
        return self.root / "CURRENT"

    def publish(self, index: FaqIndex) -> str:
        """Write ``index`` as a new version and make it live atomically; returns its name.

        Raises:
            OSError: it could not be written (e.g. the disk is full); nothing half-written is left and the live
                version stays live.
        """
        name = index.version or "empty"
        versions = self.root / "versions"
        versions.mkdir(parents=True, exist_ok=True)
        target = versions / name
        if not target.is_dir():
            staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=versions))
            try:
                index.save(staging)
            except BaseException:  # e.g. the disk is full: leave no half-written version taking up the space
                shutil.rmtree(staging, ignore_errors=True)
                raise
            try:
                staging.rename(target)
            except OSError:  # another builder published the same version meanwhile
                shutil.rmtree(staging, ignore_errors=True)
        fd, tmp = tempfile.mkstemp(prefix=".CURRENT-", dir=self.root)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(name + "\n")
            os.replace(tmp, self.pointer)
        except BaseException:  # CURRENT still names the old version, which keeps serving
            Path(tmp).unlink(missing_ok=True)
            raise
        self._prune(keep=name)
        return name

    def live_version(self) -> Optional[str]:
        """The name in ``CURRENT``, or None before the first publish."""
        try:
            return self.pointer.read_text().strip() or None
        except FileNotFoundError:
            return None

    def current(self) -> FaqIndex:
        """The live index, reloaded if a new version was published since the last call.

        Raises:
            FileNotFoundError: nothing was published yet (run ``auskunft kb build``).
        """
        try:
            stat = self.pointer.stat()
            stamp = (stat.st_ino, stat.st_mtime_ns)
        except FileNotFoundError:
            if self._loaded:
                return self._loaded[2]
            raise FileNotFoundError(
                f"no FAQ index in {self.root}; build one with 'auskunft kb build'"
            ) from None
        loaded = self._loaded
        if loaded and loaded[0] == stamp:
            return loaded[2]
        with self._lock:
            loaded = self._loaded
            if loaded and loaded[0] == stamp:
                return loaded[2]
            name = self.live_version()
            if loaded and loaded[1] == name:
                self._loaded = (stamp, loaded[1], loaded[2])
                return loaded[2]
            try:
                index = FaqIndex.load(self.root / "versions" / str(name))
            except (OSError, ValueError) as err:
                if loaded:
                    log.error("could not load index version %s (%s); keeping %s", name, err, loaded[1])
                    self._loaded = (stamp, loaded[1], loaded[2])
                    return loaded[2]
                raise
            log.info("FAQ index version %s loaded (%d entries)", name, len(index.records))
            self._loaded = (stamp, str(name), index)
            return index

    def _prune(self, keep: str) -> None:
        versions = sorted(
            (p for p in (self.root / "versions").iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in versions[KEEP_VERSIONS:]:
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)
