"""Helpers for the kb import tests: fixtures' folder, an import into a fresh kb, the kb's own validation."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from bot.editor.importing import ColumnMap, ImportOptions, ImportReport, import_faq
from bot.kb import KnowledgeBase, load_kb
from bot.kb.loader import scan_kb
from bot.kb.rules import check_links

DATA = Path(__file__).resolve().parent.parent / "data" / "kb_import"
TODAY = date(2026, 11, 23)


def run_import(source: Path, out: Path, columns: Optional[ColumnMap] = None, fmt: Optional[str] = None,
               **options: Any) -> ImportReport:
    """Import ``source`` into ``out`` with owner "Test" and a fixed date unless given."""
    settings: Dict[str, Any] = {"owner": "Test", "today": TODAY, **options}
    return import_faq(source, ImportOptions(out_dir=out, **settings), columns, fmt)


def valid_kb(out: Path) -> KnowledgeBase:
    """The kb at ``out``, loaded by the project's own loader; also no link errors of ``kb check``."""
    kb = load_kb(out)
    parsed, issues = scan_kb(out)
    assert issues == []
    link_errors = [finding for item in parsed for finding in check_links(item) if finding.severity == "error"]
    assert link_errors == []
    return kb


def answers(kb: KnowledgeBase) -> Dict[str, str]:
    """Title -> answer of every entry."""
    return {entry.title: entry.answer for entry in kb.entries}


def all_text(out: Path) -> str:
    """Every file written under ``out``, concatenated."""
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(out.rglob("*")) if path.is_file())


def jsonld_page(count: int, answer_words: int = 40) -> str:
    """A page with one JSON-LD FAQPage of ``count`` distinct questions with HTML answers (for the timing test)."""
    items: List[Dict[str, Any]] = []
    for number in range(count):
        words = " ".join(f"wort{(number * 7 + k) % 997}" for k in range(answer_words))
        items.append({
            "@type": "Question", "url": f"#frage-{number}",
            "name": f"Wie beantrage ich Leistung Nummer {number} im Bürgeramt?",
            "acceptedAnswer": {"@type": "Answer", "text": f"<p>Antwort {number}: <b>{words}</b>.</p>"
                               f"<ul><li>Schritt eins</li><li><a href=\"/info/{number}\">Mehr</a></li></ul>"},
        })
    data = {"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": items}
    return ("<!DOCTYPE html><html lang=\"de\"><head><script type=\"application/ld+json\">"
            + json.dumps(data, ensure_ascii=False) + "</script></head><body></body></html>")


def xlsx_bytes(rows: Sequence[Sequence[str]], shared: bool = True, sheet_name: str = "FAQ") -> bytes:
    """A minimal workbook as Excel writes it: workbook, relationships, shared strings (or inline strings)."""
    strings: List[str] = []
    sheet_rows = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{chr(ord('A') + c)}{r}"
            if value == "":
                continue
            if shared:
                strings.append(value)
                cells.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{_xml(value)}</t></is></c>')
        sheet_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                               'package/2006/content-types"/>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
                           f'<sheet name="{sheet_name}" sheetId="1" r:id="rId7"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                                      'openxmlformats.org/package/2006/relationships"><Relationship Id="rId7" Type="'
                                      f'{rel}/worksheet" Target="worksheets/faq.xml"/></Relationships>',
        "xl/worksheets/faq.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>'
                                 f'{"".join(sheet_rows)}</sheetData></worksheet>',
    }
    if shared:
        items = "".join(_shared_item(value) for value in strings)
        files["xl/sharedStrings.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}" '
                                         f'count="{len(strings)}">{items}</sst>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _shared_item(value: str) -> str:
    """A shared string; a value with " | " is written as rich-text runs, as Excel does for mixed formatting."""
    if " | " in value:
        runs = "".join(f'<r><rPr><b/></rPr><t xml:space="preserve">{_xml(part)}</t></r>' for part in value.split(" | "))
        return f"<si>{runs}<rPh><t>ignored</t></rPh></si>"
    return f"<si><t>{_xml(value)}</t></si>"


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
