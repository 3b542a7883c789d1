"""What every reader hands on: questions with their answers in markdown, as found in the source."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple


@dataclass(frozen=True)
class RawEntry:
    """One question and its answer as read from the source, before ids, limits and duplicates.

    Attributes:
        where: where in the source it was found, for the report ("item 3", "row 7", "faq/pass.md:12").
        question: the question as plain text (may be empty: reported as "no question").
        answer: the answer in markdown (may be empty: reported as "empty answer").
        anchor_url: the absolute URL of the entry's own anchor on the page, if it has one.
        source_url: a per-entry source URL from the source (a table's source column), if any.
        lang: a per-entry language hint (``inLanguage``, a language column), if any.
        entry_id: an id given by the source (a table's id column), if any.
        phrasings: further phrasings given by the source (a table column), if any.
        tags: tags given by the source (a table column), if any.
    """

    where: str
    question: str
    answer: str
    anchor_url: Optional[str] = None
    source_url: Optional[str] = None
    lang: Optional[str] = None
    entry_id: Optional[str] = None
    phrasings: Tuple[str, ...] = ()
    tags: Tuple[str, ...] = ()


@dataclass
class SourceDoc:
    """Everything read from one source.

    Attributes:
        kind: what was read ("HTML page", "CSV file", "XLSX file", "markdown folder").
        method: how the questions were found ("JSON-LD FAQPage", "microdata", "headings (h3)", "columns ...").
        entries: the questions and answers in source order.
        page_url: the page's own URL if the source names it (canonical link, og:url), else None.
        page_lang: the page's language (``<html lang>``), if declared.
        notes: things the editor should know that are not about one entry (a broken JSON-LD block, an encoding).
    """

    kind: str
    method: str
    entries: List[RawEntry] = field(default_factory=list)
    page_url: Optional[str] = None
    page_lang: Optional[str] = None
    notes: List[str] = field(default_factory=list)
