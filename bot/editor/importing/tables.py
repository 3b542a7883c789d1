"""CMS and spreadsheet exports: CSV (any of ``,`` ``;`` tab ``|``) and XLSX, one question per row.

Columns are found by their header ("Frage"/"Question", "Antwort"/"Answer", "ID", "URL"/"Quelle",
"Sprache"/"Language", "Synonyme"/"Phrasings", "Schlagworte"/"Tags") or named with the ``--*-column`` flags,
by header or by number (1 = the first column). Cells may hold plain text or HTML; both become markdown.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, fields
from typing import Dict, List, Optional, Tuple

from bot.editor.importing.errors import FaqImportError
from bot.editor.importing.records import RawEntry, SourceDoc
from bot.editor.importing.to_markdown import html_to_markdown, html_to_text
from bot.editor.importing.urls import is_http_url
from bot.editor.importing.xlsx import Row, read_xlsx

AUTO_NAMES: Dict[str, Tuple[str, ...]] = {
    "question": ("frage", "question", "titel", "title", "fragestellung", "faqfrage", "q"),
    "answer": ("antwort", "answer", "antworttext", "text", "body", "inhalt", "content", "a"),
    "id": ("id", "kennung", "slug", "key"),
    "source": ("source", "sourceurl", "url", "link", "quelle", "quellurl", "fundstelle"),
    "lang": ("lang", "language", "sprache"),
    "phrasings": ("phrasings", "questions", "weiterefragen", "synonyme", "synonyms", "varianten",
                  "alternativefragen", "formulierungen"),
    "tags": ("tags", "schlagworte", "schlagwoerter", "keywords", "stichworte"),
}
CSV_FIELD_LIMIT = 1_000_000


@dataclass(frozen=True)
class ColumnMap:
    """Which column holds what; None: found by its header (question and answer must be found)."""

    question: Optional[str] = None
    answer: Optional[str] = None
    id: Optional[str] = None
    source: Optional[str] = None
    lang: Optional[str] = None
    phrasings: Optional[str] = None
    tags: Optional[str] = None


def read_csv(raw: bytes, name: str, columns: ColumnMap) -> SourceDoc:
    """The entries of a CSV export.

    Raises:
        FaqImportError: binary data, broken quoting, or the question/answer column not found.
    """
    if b"\x00" in raw[:8192]:
        raise FaqImportError(f"{name} is not a text file; export the FAQ as CSV (UTF-8) or .xlsx")
    notes: List[str] = []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
        notes.append(f"{name} is not UTF-8; it was read as Windows-1252 (Excel's default)")
    header_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max(",;\t|", key=header_line.count)  # the header names the columns: its separator is the one
    old_limit = csv.field_size_limit(CSV_FIELD_LIMIT)
    rows: List[Row] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True)
    try:
        for number, cells in enumerate(reader, start=1):  # the row number a spreadsheet program shows
            if any(cell.strip() for cell in cells):
                rows.append((number, cells))
    except csv.Error as err:
        raise FaqImportError(f"{name}, line {reader.line_num}: {err}; check the quoting around that line "
                             "(export again with every field in double quotes)") from None
    finally:
        csv.field_size_limit(old_limit)
    source = read_rows(rows, name, columns, "CSV file")
    source.notes[:0] = notes
    return source


def read_xlsx_table(raw: bytes, name: str, columns: ColumnMap) -> SourceDoc:
    """The entries of the first sheet of an XLSX export."""
    return read_rows(read_xlsx(raw, name), name, columns, "XLSX file")


def read_rows(rows: List[Row], name: str, columns: ColumnMap, kind: str) -> SourceDoc:
    """Entries from rows whose first row is the header.

    Raises:
        FaqImportError: no rows, or the question or answer column cannot be found.
    """
    if not rows:
        raise FaqImportError(f"{name} is empty; export the FAQ with a header row (e.g. 'Frage;Antwort')")
    header = [cell.strip() for cell in rows[0][1]]
    found = {spec.name: _column(header, getattr(columns, spec.name), spec.name, name)
             for spec in fields(ColumnMap)}
    for required in ("question", "answer"):
        if found[required] is None:
            raise FaqImportError(
                f"no {required} column in {name} (columns: {_listing(header)}); name it with "
                f"--{required}-column NAME or give its number, e.g. --{required}-column 2")
    used = ", ".join(f"{key}={header[index] or index + 1}" for key, index in found.items() if index is not None)
    source = SourceDoc(kind=kind, method=f"columns {used}")
    for number, cells in rows[1:]:
        def cell(key: str, cells: List[str] = cells) -> str:
            index = found[key]
            return cells[index].strip() if index is not None and index < len(cells) else ""

        row_source = cell("source")
        base = row_source if is_http_url(row_source) else None
        source.entries.append(RawEntry(
            where=f"row {number}",
            question=html_to_text(cell("question")),
            answer=html_to_markdown(cell("answer"), base),
            source_url=base,
            lang=cell("lang") or None,
            entry_id=cell("id") or None,
            phrasings=tuple(html_to_text(part) for part in re.split(r"\n|\|", cell("phrasings")) if part.strip()),
            tags=tuple(part for part in re.split(r"[,;|\n]", cell("tags")) if part.strip()),
        ))
    if not source.entries:
        raise FaqImportError(f"{name} has a header row but no data rows; export the FAQ with its entries")
    return source


def _column(header: List[str], wanted: Optional[str], key: str, name: str) -> Optional[int]:
    normal = [_normal(cell) for cell in header]
    if wanted is None:
        for candidate in AUTO_NAMES[key]:
            if candidate in normal:
                return normal.index(candidate)
        return None
    if wanted.strip().isdigit():
        index = int(wanted.strip()) - 1
        if 0 <= index < len(header):
            return index
    elif _normal(wanted) in normal:
        return normal.index(_normal(wanted))
    raise FaqImportError(f"--{key}-column {wanted!r} is not a column of {name} (columns: {_listing(header)}); "
                         "give a header exactly or the column's number")


def _normal(text: str) -> str:
    text = text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    return re.sub(r"[^a-z0-9]", "", text)


def _listing(header: List[str]) -> str:
    return ", ".join(f"{index + 1}: {cell or '(empty)'}" for index, cell in enumerate(header))
