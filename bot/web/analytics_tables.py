"""The managers' tables of the inbox analytics (per department, per agent, reasons per week), for HTML and CSV.

One definition per table: German caption and column heads, and raw cells; :func:`html_cell` and
:func:`csv_cell` format a cell for the page (``25 Min.``) or for German Excel (``25,0`` minutes).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

from bot.tickets.breakdown import GroupFigures, WeekReasons
from bot.web.wording import duration

Cell = Union[str, int, float, None]
TABLES = ("departments", "agents", "reasons")
PERIODS = (7, 14, 30, 90)
GROUP_COLUMNS: Tuple[Tuple[str, str], ...] = (
    ("Offen (neu oder wartend)", "count"), ("In Bearbeitung", "count"), ("Erledigt im Zeitraum", "count"),
    ("Beantwortet", "count"), ("Erste Antwort: Median", "seconds"), ("Erste Antwort: 90. Perzentil", "seconds"),
    ("Bearbeitungszeit: Median", "seconds"), ("Bearbeitungszeit: 90. Perzentil", "seconds"))
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    """A table: caption, column heads with their kind ("text", "count", "seconds"), rows of cells.

    The first cell of each row names the row (a ``th scope="row"`` on the page).
    """

    key: str
    caption: str
    columns: List[Tuple[str, str]]
    rows: List[List[Cell]] = field(default_factory=list)


def _group_rows(groups: Sequence[GroupFigures], names: Dict[Optional[str], str]) -> List[List[Cell]]:
    return [[names.get(g.key, g.key or "–"), g.open, g.in_progress, g.resolved, g.replied, g.reply_median,
             g.reply_p90, g.resolution_median, g.resolution_p90] for g in groups]


def departments_table(groups: Sequence[GroupFigures], names: Dict[Optional[str], str], days: int) -> Table:
    """Workload and times per department; ``names`` maps keys to display names (None: without department)."""
    return Table("departments", f"Arbeitslast und Zeiten je Abteilung, letzte {days} Tage",
                 [("Abteilung", "text"), *GROUP_COLUMNS], _group_rows(groups, names))


def agents_table(groups: Sequence[GroupFigures], names: Dict[Optional[str], str], days: int) -> Table:
    """Workload and times per assigned agent; ``names`` maps user names to display names (None: unassigned)."""
    return Table("agents", f"Arbeitslast und Zeiten je Mitarbeitenden, letzte {days} Tage",
                 [("Name", "text"), *GROUP_COLUMNS], _group_rows(groups, names))


def reasons_table(weeks: Sequence[WeekReasons], labels: Dict[str, str], days: int) -> Table:
    """Tickets per handoff reason per calendar week (``labels``: reason key → German label)."""
    reasons: List[str] = []
    for week in weeks:
        reasons += [r for r in week.reasons if r not in reasons]
    columns = [("Woche", "text"), *((labels.get(r, r), "count") for r in reasons), ("Summe", "count")]
    rows: List[List[Cell]] = [
        [f"KW {w.iso_week} ({w.first:%d.%m.}–{w.last:%d.%m.%Y})", *(w.reasons.get(r, 0) for r in reasons), w.total]
        for w in weeks]
    return Table("reasons", f"Gründe der Weiterleitung je Kalenderwoche, letzte {days} Tage", columns, rows)


def html_cell(value: Cell, kind: str) -> str:
    """A cell as shown on the page: durations as ``1 Std. 5 Min.`` (from a day on ``2 Tg. 3 Std.``), none as ``–``."""
    if kind == "seconds":
        if isinstance(value, (int, float)) and value >= 86400:
            days, rest = divmod(int(round(value / 3600)), 24)
            return f"{days} Tg. {rest} Std."
        return duration(value if isinstance(value, (int, float)) else None)
    return "–" if value is None else str(value)


def csv_cell(value: Cell, kind: str) -> str:
    """A cell for German Excel: durations in minutes with a decimal comma, text guarded against formulas.

    Text starting with ``=``, ``+``, ``-`` or ``@`` (or a tab / carriage return) gets a leading apostrophe,
    so a spreadsheet shows it instead of running it as a formula.
    """
    if value is None:
        return ""
    if kind == "seconds" and isinstance(value, (int, float)):
        return f"{value / 60:.1f}".replace(".", ",")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(table: Table) -> bytes:
    """The table as CSV for German Excel: UTF-8 with BOM, ``;`` between cells, CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([csv_cell(label, "text") for label, _ in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(cell, kind) for cell, (_, kind) in zip(row, table.columns, strict=True)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
