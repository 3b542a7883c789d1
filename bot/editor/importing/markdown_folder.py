"""A folder of markdown files (a wiki or docs export): each heading asks, the text under it answers.

The question level is chosen per file as for HTML pages (most headings ending in "?", else the most frequent
level); an answer runs to the next heading of the same or a higher level, smaller headings inside it become
bold lines. YAML front matter is read for ``lang`` and otherwise ignored; code fences are kept as text.
HTML inside the markdown is converted or removed, and links are made absolute or reduced to their text.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import List, Optional, Tuple

import yaml

from bot.editor.importing.errors import FaqImportError
from bot.editor.importing.html_tree import clean_text
from bot.editor.importing.microdata import question_text
from bot.editor.importing.records import RawEntry, SourceDoc
from bot.editor.importing.to_markdown import TAG_LIKE, html_to_markdown, html_to_text
from bot.editor.importing.urls import defuse_links
from bot.kb.errors import KbValidationError
from bot.kb.loader import split_front_matter

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^<>\s]+)>", re.IGNORECASE)
_ACTIVE = re.compile(r"<(script|style|iframe|noscript|template|object|svg|math)\b.*?</\1\s*>",
                     re.IGNORECASE | re.DOTALL)
_ACTIVE_OPEN = re.compile(r"<(script|style|iframe|noscript|template|object|svg|math)\b.*\Z", re.IGNORECASE | re.DOTALL)
_BLOCK_TAG = re.compile(r"</?(p|div|ul|ol|li|dl|dt|dd|table|tr|td|th|details|summary|h[1-6]|blockquote|pre|section)\b",
                        re.IGNORECASE)
Heading = Tuple[int, int, str]  # line index, level, text


def markdown_files(folder: Path) -> List[Path]:
    """The folder's ``.md``/``.markdown`` files, sorted; hidden and ``_`` names skipped."""
    return sorted(
        path for path in folder.rglob("*")
        if path.suffix.lower() in (".md", ".markdown") and path.is_file()
        and not any(part.startswith((".", "_")) for part in path.relative_to(folder).parts)
    )


def read_markdown_folder(folder: Path, base_url: Optional[str]) -> SourceDoc:
    """The entries of every markdown file under ``folder``.

    Raises:
        FaqImportError: no markdown files, or a file that is not UTF-8.
    """
    files = markdown_files(folder) if folder.is_dir() else [folder]
    if not files:
        raise FaqImportError(f"no markdown files (*.md) in {folder}; point the import at the folder that holds them")
    source = SourceDoc(kind="markdown folder" if folder.is_dir() else "markdown file", method="headings")
    levels: Counter[int] = Counter()
    for path in files:
        name = str(path.relative_to(folder)) if folder.is_dir() else path.name
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise FaqImportError(f"{name} is not UTF-8 text; convert it (e.g. 'iconv -f latin1 -t utf-8') and "
                                 "import again") from None
        lang, body, offset = _front_matter(text)
        entries, level = read_markdown(body, name, base_url, lang, offset)
        source.entries.extend(entries)
        if level:
            levels[level] += len(entries)
    if levels:
        source.method = "headings (" + ", ".join(f"{'#' * lv}" for lv in sorted(levels)) + ")"
    return source


def read_markdown(text: str, name: str, base_url: Optional[str], lang: Optional[str] = None,
                  offset: int = 0) -> Tuple[List[RawEntry], int]:
    """The entries of one markdown text and the heading level used as questions (0: no headings)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    headings = _headings(lines)
    if not headings:
        return [], 0
    asking = Counter(level for _, level, title in headings if title.endswith("?"))
    counts = asking or Counter(level for _, level, _ in headings)
    level = max(counts, key=lambda lv: (counts[lv], lv))
    entries: List[RawEntry] = []
    for position, (index, heading_level, title) in enumerate(headings):
        if heading_level != level:
            continue
        end = next((i for i, lv, _ in headings[position + 1:] if lv <= level), len(lines))
        body = _answer(lines[index + 1:end], headings, level)
        entries.append(RawEntry(where=f"{name}:{index + 1 + offset}", question=question_text(html_to_text(title)),
                                answer=sanitize_markdown(body, base_url), lang=lang))
    return entries, level


def _headings(lines: List[str]) -> List[Heading]:
    found: List[Heading] = []
    fenced = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match and match.group(2).strip():
            found.append((index, len(match.group(1)), clean_text(match.group(2))))
    return found


def _answer(lines: List[str], headings: List[Heading], level: int) -> str:
    out: List[str] = []
    fenced = False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        out.append(f"**{clean_text(match.group(2))}**" if match and match.group(2).strip() else line.rstrip())
    return "\n".join(out).strip()


def sanitize_markdown(markdown: str, base_url: Optional[str]) -> str:
    """Markdown from elsewhere made safe: HTML converted or removed, links absolute or text, no images."""
    markdown = _AUTOLINK.sub(r"\1", markdown)
    markdown = _ACTIVE.sub("", markdown)
    markdown = _ACTIVE_OPEN.sub("", markdown)  # an active element never closed: everything after it goes
    if TAG_LIKE.search(markdown):
        paragraphs = re.split(r"\n\s*\n", markdown)
        markdown = "\n\n".join(_convert_html(paragraph, base_url) for paragraph in paragraphs)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown)
    return defuse_links(markdown, base_url).strip()


def _convert_html(paragraph: str, base_url: Optional[str]) -> str:
    """HTML in one paragraph as markdown: line by line when it holds inline tags only (markdown lists stay)."""
    if not TAG_LIKE.search(paragraph):
        return paragraph
    if _BLOCK_TAG.search(paragraph):
        return html_to_markdown(paragraph, base_url)
    return "\n".join(html_to_markdown(line, base_url) if TAG_LIKE.search(line) else line
                     for line in paragraph.split("\n"))


def _front_matter(text: str) -> Tuple[Optional[str], str, int]:
    """(``lang`` from the front matter, the text after it, the number of lines it took)."""
    try:
        front, body, body_line = split_front_matter("", text, closing=("---", "..."))
    except KbValidationError:  # no front matter, or not closed: all of it is the text
        return None, text, 0
    try:
        meta = yaml.safe_load(front)
    except yaml.YAMLError:
        meta = None
    lang = meta.get("lang") if isinstance(meta, dict) and isinstance(meta.get("lang"), str) else None
    return lang, body, body_line - 1
