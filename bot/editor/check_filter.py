"""The check report filtered and grouped for the editor page: by severity, code, owner and folder.

The page passes the choices as query parameters (``?severity=error&code=placeholder&group=owner``), so filtering
works without JavaScript and a filtered view can be bookmarked or sent to a colleague. The counts per code at the
top are always those of the whole report, each a link to the rows of that code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, List, Tuple
from urllib.parse import urlencode

from bot.editor.check_report import CheckReport, ReportRow
from bot.kb.rules import SEVERITIES, severity_rank

GROUPINGS = {"file": "Datei", "code": "Meldung (Code)", "owner": "Zuständig", "folder": "Ordner",
             "severity": "Schwere"}
SEVERITY_LABELS = {"error": "Fehler", "warning": "Warnung", "info": "Hinweis"}
TOP_FOLDER = "(oberste Ebene)"
NO_OWNER = "(niemand eingetragen)"
WHOLE_KB = "Wissensdatenbank insgesamt"


@dataclass(frozen=True)
class ReportFilter:
    """What the editor chose: empty strings mean "all"; ``group`` is a key of :data:`GROUPINGS`."""

    severity: str = ""
    code: str = ""
    owner: str = ""
    folder: str = ""
    group: str = "file"

    @property
    def active(self) -> bool:
        """Whether any filter (not the grouping) is set."""
        return bool(self.severity or self.code or self.owner or self.folder)

    def matches(self, row: ReportRow) -> bool:
        """Whether a finding passes every chosen filter."""
        return ((not self.severity or row.severity == self.severity) and (not self.code or row.code == self.code)
                and (not self.owner or row.owner == self.owner) and (not self.folder or folder_of(row) == self.folder))

    def query(self, **changes: str) -> str:
        """The page's query string for this filter with ``changes`` applied (empty values and the default left out)."""
        chosen = replace(self, **changes)
        pairs = [(key, getattr(chosen, key)) for key in ("severity", "code", "owner", "folder", "group")]
        return urlencode([(key, value) for key, value in pairs if value and (key, value) != ("group", "file")])


@dataclass(frozen=True)
class CodeCount:
    """How often one code occurs in the whole report, its (worst) severity and in how many files."""

    code: str
    severity: str
    severity_label: str
    count: int
    files: int


@dataclass(frozen=True)
class RowGroup:
    """The findings of one group (one file, code, owner, folder or severity), in report order."""

    key: str
    label: str
    rows: List[ReportRow]
    owner: str = ""  # for a file: its owner

    @property
    def errors(self) -> int:
        """Number of errors in this group."""
        return sum(r.severity == "error" for r in self.rows)


@dataclass(frozen=True)
class FilteredReport:
    """The rows that pass the filter, grouped, with the choices the filter form offers."""

    groups: List[RowGroup]
    shown: int
    total: int
    codes: List[CodeCount]
    owners: List[str]
    folders: List[str]


def folder_of(row: ReportRow) -> str:
    """The folder of a finding's file (``abfall`` for ``abfall/sperrmuell.md``); :data:`TOP_FOLDER` at the top."""
    if not row.path:
        return TOP_FOLDER
    head, sep, _ = row.path.rpartition("/")
    return head if sep else TOP_FOLDER


def _key(row: ReportRow, group: str) -> Tuple[str, str]:
    """The group key and its label for one row."""
    if group == "code":
        return row.code, row.code
    if group == "owner":
        return row.owner, row.owner or NO_OWNER
    if group == "folder":
        return folder_of(row), folder_of(row)
    if group == "severity":
        return str(severity_rank(row.severity)), SEVERITY_LABELS.get(row.severity, row.severity)
    return row.path, row.path or WHOLE_KB


def code_counts(rows: List[ReportRow]) -> List[CodeCount]:
    """Findings per code, worst severity first, then most frequent."""
    found: Dict[str, List[ReportRow]] = {}
    for row in rows:
        found.setdefault(row.code, []).append(row)
    counts = []
    for code, of_code in found.items():
        worst = min((r.severity for r in of_code), key=severity_rank)
        counts.append(CodeCount(code, worst, SEVERITY_LABELS.get(worst, worst), len(of_code),
                                len({r.path for r in of_code})))
    return sorted(counts, key=lambda c: (severity_rank(c.severity), -c.count, c.code))


def filter_report(report: CheckReport, chosen: ReportFilter) -> FilteredReport:
    """The report's findings that pass ``chosen``, grouped as chosen.

    Args:
        report: the whole check report.
        chosen: the filter and grouping (an unknown grouping counts as ``file``).

    Returns:
        Groups in a stable order (files and folders by name, codes and severities worst first, owners by name), the
        number of rows shown and in all, the counts per code and the owners and folders to offer.
    """
    rows = [row for group in report.groups for row in group.rows]
    group = chosen.group if chosen.group in GROUPINGS else "file"
    grouped: Dict[str, RowGroup] = {}
    for row in rows:
        if not chosen.matches(row):
            continue
        key, label = _key(row, group)
        if key not in grouped:
            grouped[key] = RowGroup(key, label, [], _owner_of(report, row.path) if group == "file" else "")
        grouped[key].rows.append(row)
    order = {c.code: index for index, c in enumerate(code_counts(rows))}
    groups = sorted(grouped.values(), key=lambda g: (order.get(g.key, 0), g.key) if group == "code" else
                    (g.key == "", g.label.casefold()) if group == "owner" else (g.key,))
    return FilteredReport(groups, sum(len(g.rows) for g in groups), len(rows), code_counts(rows),
                          sorted({r.owner for r in rows if r.owner}, key=str.casefold),
                          sorted({folder_of(r) for r in rows}))


def _owner_of(report: CheckReport, path: str) -> str:
    """The owner the report names for a file."""
    return next((g.owner for g in report.groups if g.path == path), "")


def valid_severity(value: str) -> bool:
    """Whether ``value`` is a severity (or empty: all)."""
    return not value or value in SEVERITIES
