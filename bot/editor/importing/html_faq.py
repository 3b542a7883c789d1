"""A saved FAQ page: decoded, parsed, and read the most reliable way it offers.

The order is JSON-LD ``FAQPage``, then microdata, then the page's visible structure (``<details>``,
definition lists, headings; see :mod:`.plain_html`). Structured data is what the agency itself declared as
its questions and answers, so when it is there the visible structure is not guessed at.
"""

from __future__ import annotations

import codecs
import re
from typing import Optional, Tuple
from urllib.parse import urljoin

from bot.editor.importing.errors import FaqImportError
from bot.editor.importing.html_tree import parse_html
from bot.editor.importing.jsonld import parse_blocks, read_jsonld
from bot.editor.importing.microdata import read_microdata
from bot.editor.importing.plain_html import best_plain
from bot.editor.importing.records import SourceDoc
from bot.editor.importing.urls import is_http_url

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_html(raw: bytes, name: str) -> Tuple[str, Optional[str]]:
    """The page's text and a note if its encoding had to be guessed.

    The byte order mark wins, then ``<meta charset>``, then UTF-8, then Windows-1252.

    Raises:
        FaqImportError: the file is binary (not a saved web page).
    """
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return raw.decode(codec, errors="replace"), None
    if b"\x00" in raw[:8192]:
        raise FaqImportError(f"{name} is not a web page (it contains binary data); save the FAQ page from the "
                             "browser as 'Web page, HTML only', or export the FAQ as CSV")
    declared = _META_CHARSET.search(raw[:4096])
    if declared:
        try:
            return raw.decode(declared.group(1).decode("ascii").lower()), None
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), f"{name} is not UTF-8; it was read as Windows-1252"


def read_html(raw: bytes, name: str, source_url: Optional[str]) -> SourceDoc:
    """The questions and answers of a saved page.

    Args:
        raw: the file's bytes.
        name: the file's name, for messages.
        source_url: where the page came from (``--source-url``); else the page's canonical URL is used.

    Raises:
        FaqImportError: the page holds no questions with answers in any form the importer knows.
    """
    text, note = decode_html(raw, name)
    doc = parse_html(text)
    page_url = source_url if is_http_url(source_url) else None
    if page_url is None and doc.canonical:
        page_url = doc.canonical if is_http_url(doc.canonical) else None
    if doc.base_href and (page_url or is_http_url(doc.base_href)):
        base = urljoin(page_url or "", doc.base_href)
        page_url = page_url or (base if is_http_url(base) else None)
    source = SourceDoc(kind="HTML page", method="", page_url=page_url, page_lang=doc.lang)
    if note:
        source.notes.append(note)
    data, problems = parse_blocks(doc.jsonld)
    source.notes.extend(problems)
    entries = read_jsonld(data, page_url)
    if entries:
        source.method, source.entries = "JSON-LD (schema.org Question/Answer)", entries
        return source
    entries = read_microdata(doc, page_url)
    if entries:
        source.method, source.entries = "microdata (schema.org Question/Answer)", entries
        return source
    plain = best_plain(doc, page_url)
    if plain is None:
        broken = f" ({'; '.join(problems)})" if problems else ""
        raise FaqImportError(
            f"no questions and answers found in {name}{broken}: it has no schema.org FAQPage (JSON-LD or "
            "microdata), no <details>/<summary>, no definition list and no headings followed by text. Save the "
            "page with its content (some sites load the FAQ with JavaScript: save it after it has loaded, or ask "
            "for a CSV export) and retry")
    source.method, source.entries = plain
    return source
