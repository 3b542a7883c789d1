"""``auskunft kb import``: read an agency's existing FAQ, plan the kb entries, write them, report.

Everything that can fail on the input (size, format, encoding, no questions found, no source URL) fails
before anything is written; the writer then stages and validates every file before moving any into the kb.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Dict, Optional

from bot.editor.importing.errors import FaqImportError
from bot.editor.importing.html_faq import decode_html, read_html
from bot.editor.importing.jsonld import parse_blocks, read_jsonld
from bot.editor.importing.markdown_folder import markdown_files, read_markdown_folder
from bot.editor.importing.planning import OVERLONG_DIR, ImportOptions, plan_entries
from bot.editor.importing.records import SourceDoc
from bot.editor.importing.report import REASONS, ImportReport
from bot.editor.importing.tables import ColumnMap, read_csv, read_xlsx_table
from bot.editor.importing.urls import is_http_url
from bot.editor.importing.writer import write_entries
from bot.kb.errors import KbValidationError
from bot.kb.loader import kb_files, load_kb

MAX_BYTES = 20 * 1024 * 1024
FORMATS = ("html", "jsonld", "csv", "xlsx", "markdown")
_SUFFIXES = {".html": "html", ".htm": "html", ".xhtml": "html", ".shtml": "html", ".json": "jsonld",
             ".jsonld": "jsonld", ".csv": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
             ".md": "markdown", ".markdown": "markdown"}
_ID_LINE = re.compile(rb"^id:\s*['\"]?([A-Za-z0-9-]+)", re.MULTILINE)


def import_faq(source: Path, options: ImportOptions, columns: Optional[ColumnMap] = None,
               fmt: Optional[str] = None) -> ImportReport:
    """Import ``source`` into ``options.out_dir``.

    Args:
        source: a saved HTML page, a JSON-LD file, a CSV or XLSX export, or a folder (or file) of markdown.
        options: owner, language, source URL, force, dry run.
        columns: which table columns hold what (tables only).
        fmt: one of :data:`FORMATS`; None: from the file's name and content.

    Raises:
        FaqImportError: the source cannot be imported; nothing was written.
    """
    started = time.perf_counter()
    if not options.owner.strip():
        raise FaqImportError("--owner is empty: name the department responsible for these entries")
    if options.source_url is not None and not is_http_url(options.source_url):
        raise FaqImportError(f"--source-url {options.source_url!r} is not an http(s) address; give the page's "
                             "address as shown in the browser, e.g. https://www.musterstadt.de/faq")
    kind = fmt or detect_format(source)
    document = read_source(source, kind, options, columns or ColumnMap())
    if not document.entries:
        raise FaqImportError(f"no questions found in {source} ({document.kind}); check that it is the FAQ itself")
    plan = plan_entries(document, options, existing_ids(options.out_dir))
    if not plan.entries:
        reasons = sorted({REASONS.get(skip.reason, skip.reason) for skip in plan.skipped})
        raise FaqImportError(f"nothing to import from {source}: all {len(document.entries)} items were skipped "
                             f"({', '.join(reasons)}); check that the questions and answers were found (--dry-run "
                             "--json lists them)")
    written = write_entries(plan.entries, options.out_dir, options.today, options.force, options.dry_run)
    report = ImportReport(
        source=str(source), kind=document.kind, method=document.method, out_dir=str(options.out_dir),
        dry_run=options.dry_run, found=len(document.entries), plan=plan, written=written, notes=document.notes,
    )
    if not options.dry_run and options.out_dir.is_dir():
        try:
            load_kb(options.out_dir)
        except KbValidationError as err:
            report.kb_problems = [str(issue) for issue in err.issues]
    report.seconds = time.perf_counter() - started
    return report


def detect_format(source: Path) -> str:
    """The source's format from its name, else from its first bytes.

    Raises:
        FaqImportError: the source does not exist, or is an old binary spreadsheet.
    """
    if source.is_dir():
        return "markdown"
    if not source.is_file():
        raise FaqImportError(f"{source} not found; give the path of the saved page, export or folder")
    suffix = source.suffix.lower()
    if suffix in (".xls", ".ods", ".numbers"):
        raise FaqImportError(f"{source.name} is a {suffix} spreadsheet; save it as .xlsx or CSV (UTF-8) and import "
                             "that")
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    with source.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"{", b"[")):
        return "jsonld"
    return "html" if b"<" in head else "csv"


def read_source(source: Path, kind: str, options: ImportOptions, columns: ColumnMap) -> SourceDoc:
    """Read ``source`` as ``kind``, refusing inputs over :data:`MAX_BYTES`.

    Raises:
        FaqImportError: too large, unreadable, or holding no questions.
    """
    if kind not in FORMATS:
        raise FaqImportError(f"unknown format {kind!r}; use one of {', '.join(FORMATS)}")
    if kind == "markdown":
        files = markdown_files(source) if source.is_dir() else [source]
        _check_size(sum(path.stat().st_size for path in files), str(source))
        return read_markdown_folder(source, options.source_url)
    if not source.is_file():
        raise FaqImportError(f"{source} not found; give the path of the saved page or export")
    _check_size(source.stat().st_size, source.name)
    raw = source.read_bytes()
    if kind == "html":
        return read_html(raw, source.name, options.source_url)
    if kind == "csv":
        return read_csv(raw, source.name, columns)
    if kind == "xlsx":
        return read_xlsx_table(raw, source.name, columns)
    text, note = decode_html(raw, source.name)
    data, problems = parse_blocks([text])
    if problems:
        raise FaqImportError(f"{source.name}: {problems[0]}; check the file is the JSON-LD itself")
    document = SourceDoc(kind="JSON-LD file", method="JSON-LD (schema.org Question/Answer)",
                         entries=read_jsonld(data, options.source_url), page_url=options.source_url)
    document.notes.extend([note] if note else [])
    return document


def _check_size(size: int, name: str) -> None:
    if size > MAX_BYTES:
        raise FaqImportError(f"{name} is {size / 2**20:.1f} MB; the import reads at most {MAX_BYTES // 2**20} MB. "
                             "Save only the FAQ page (without images), or split the export into several files")
    if size == 0:
        raise FaqImportError(f"{name} is empty; save the FAQ page or export again")


def existing_ids(out_dir: Path) -> Dict[str, str]:
    """Ids already used in ``out_dir`` (kb files and held-back files), with the file of each."""
    found: Dict[str, str] = {}
    if not out_dir.is_dir():
        return found
    files = list(kb_files(out_dir))
    overlong = out_dir / OVERLONG_DIR
    if overlong.is_dir():
        files += sorted(overlong.glob("*.md"))
    for path in files:
        if not path.is_file():
            continue
        with path.open("rb") as handle:
            match = _ID_LINE.search(handle.read(4096))
        if match:
            found.setdefault(match.group(1).decode("ascii"), path.relative_to(out_dir).as_posix())
    return found
