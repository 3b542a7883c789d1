"""The ``auskunft kb check`` report as data for the editor web page: findings grouped by file, in German.

Runs :func:`bot.kb.check.check_kb` (offline) and keeps the last result per kb directory while no
kb file changed (size and modification time of every file) and the day is the same: on the
98-entry kb a check takes about 0.3 s, a look at the files about 1 ms.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot.kb.check import check_kb
from bot.kb.i18n import ui

LANG = "de"


@dataclass(frozen=True)
class ReportRow:
    """One finding as the page shows it."""

    severity: str  # error, warning or info (for the CSS class)
    severity_label: str  # Fehler, Warnung, Hinweis
    path: str  # relative to the kb directory; empty for the kb as a whole
    line: int
    field: Optional[str]
    code: str
    owner: str
    message: str
    hint: str

    @property
    def location(self) -> str:
        """``file:line`` (``file`` alone for line 0, ``kb`` for the kb as a whole)."""
        where = self.path or "kb"
        return f"{where}:{self.line}" if self.line else where


@dataclass(frozen=True)
class FileGroup:
    """The findings of one file, in line order."""

    path: str
    owner: str
    rows: List[ReportRow]

    @property
    def errors(self) -> int:
        """Number of errors in this file."""
        return sum(r.severity == "error" for r in self.rows)


@dataclass(frozen=True)
class OverdueRow:
    """An entry whose review date has passed."""

    path: str
    review_by: date
    days: int
    owner: str


@dataclass(frozen=True)
class CheckReport:
    """The whole report: groups by file, totals, the German summary line and overdue reviews."""

    groups: List[FileGroup]
    errors: int
    warnings: int
    infos: int
    files: int
    summary: str
    overdue: List[OverdueRow] = field(default_factory=list)
    seconds: float = 0.0
    checked_on: Optional[date] = None


def build_report(kb_dir: Path, today: Optional[date] = None) -> CheckReport:
    """Check ``kb_dir`` (offline) and group the findings by file with German texts.

    Args:
        kb_dir: the kb directory.
        today: the reference date for overdue reviews (default: today).

    Returns:
        The report; ``seconds`` is how long the check took.
    """
    today = today or date.today()
    started = time.perf_counter()
    result = check_kb(kb_dir, today=today)
    groups: List[FileGroup] = []
    for path, findings in groupby(result.findings, key=lambda f: f.path):
        rows = [ReportRow(f.severity, ui(f.severity, LANG), f.path, f.line, f.field, f.code, f.owner,
                          f.message(LANG), f.hint(LANG)) for f in findings]
        owner = next((r.owner for r in rows if r.owner), "")
        groups.append(FileGroup(path, owner, rows))
    overdue = [OverdueRow(o.path, o.review_by, o.days, o.owner) for o in result.overdue]
    return CheckReport(groups, result.errors, result.warnings, result.infos, result.files, result.summary(LANG),
                       overdue, time.perf_counter() - started, today)


def kb_fingerprint(kb_dir: Path) -> Tuple[Tuple[str, int, int], ...]:
    """Path, size and modification time of every file under ``kb_dir`` (changes whenever a file does)."""
    if not kb_dir.is_dir():
        return ()
    found = []
    for path in kb_dir.rglob("*"):
        try:
            stat = path.stat()
        except OSError:
            continue
        if path.is_file():
            found.append((str(path.relative_to(kb_dir)), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))


class ReportCache:
    """The last report per kb directory, reused while its files and the date are unchanged (thread-safe)."""

    def __init__(self) -> None:
        self._reports: Dict[Path, Tuple[object, CheckReport]] = {}
        self._lock = threading.Lock()

    def report(self, kb_dir: Path, today: Optional[date] = None) -> Tuple[CheckReport, bool]:
        """The report for ``kb_dir`` and whether it came from the cache."""
        today = today or date.today()
        key = (kb_fingerprint(kb_dir), today)
        with self._lock:
            cached = self._reports.get(kb_dir)
            if cached is not None and cached[0] == key:
                return cached[1], True
        fresh = build_report(kb_dir, today)
        with self._lock:
            self._reports[kb_dir] = (key, fresh)
        return fresh, False
