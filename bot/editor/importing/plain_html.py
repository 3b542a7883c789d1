"""FAQ pages without structured data: ``<details>/<summary>``, definition lists and headings.

Each reader returns candidate entries; :func:`best_plain` keeps the reading that finds the most questions
(texts ending in "?" count first), so a page of headings is not read as its one metadata ``<dl>``.
For headings, the question level is the one with the most headings ending in "?" (else the most frequent
level); an answer runs from its heading to the next heading of the same or a higher level, and smaller
headings inside it become bold lines. Navigation, page header, footer, sidebars and forms are left out, and
a page with a ``<main>`` element is read only there.
"""

from __future__ import annotations

from collections import Counter
from typing import List, Optional, Sequence, Set, Tuple, Union

from bot.editor.importing.html_tree import HEADINGS, HtmlDocument, Node, anchor_of, iter_nodes, text_of
from bot.editor.importing.microdata import question_text
from bot.editor.importing.records import RawEntry
from bot.editor.importing.to_markdown import render_markdown
from bot.editor.importing.urls import with_fragment

LEFT_OUT = frozenset(("nav", "header", "footer", "aside", "form", "button"))
Reading = Tuple[str, List[RawEntry]]


def best_plain(doc: HtmlDocument, page_url: Optional[str]) -> Optional[Reading]:
    """The reading (method name and entries) that finds the most questions, or None if none finds any."""
    content = _content_root(doc)
    readings = [("<details>/<summary>", read_details(content, page_url)),
                ("definition list <dl>", read_definitions(content, page_url))]
    headings = read_headings(content, page_url)
    if headings is not None:
        readings.append(headings)
    readings = [(method, entries) for method, entries in readings if entries]
    if not readings:
        return None
    return max(readings, key=lambda reading: (_score(reading[1]), len(reading[1])))


def _score(entries: Sequence[RawEntry]) -> int:
    return sum(1 for entry in entries if entry.question.endswith("?") and entry.answer)


def _content_root(doc: HtmlDocument) -> Node:
    for node in iter_nodes(doc.body()):
        if node.tag == "main" or node.attrs.get("role", "").lower() == "main":
            return node
    return doc.body()


def _left_out(node: Node) -> bool:
    return node.tag in LEFT_OUT or node.attrs.get("role", "").lower() in ("navigation", "banner", "contentinfo")


def read_details(root: Node, page_url: Optional[str]) -> List[RawEntry]:
    """One entry per outermost ``<details>``: the ``<summary>`` asks, the rest answers."""
    entries: List[RawEntry] = []
    for details in _outermost(root, "details"):
        summary = next((c for c in details.children if isinstance(c, Node) and c.tag == "summary"), None)
        rest = [child for child in details.children if child is not summary]
        fragment = details.attrs.get("id") or (anchor_of(summary) if summary is not None else None)
        entries.append(RawEntry(
            where=f"item {len(entries) + 1}",
            question=question_text(text_of(summary)) if summary is not None else "",
            answer=render_markdown(rest, page_url),
            anchor_url=with_fragment(page_url, fragment),
        ))
    return entries


def read_definitions(root: Node, page_url: Optional[str]) -> List[RawEntry]:
    """One entry per ``<dt>`` of the page's definition lists, answered by the ``<dd>`` elements after it."""
    entries: List[RawEntry] = []
    for dl in _outermost(root, "dl"):
        term: Optional[Node] = None
        answer: List[Union[Node, str]] = []
        for child in _dl_items(dl):
            if child.tag == "dt":
                if term is not None:
                    entries.append(_definition(term, answer, page_url, len(entries) + 1))
                term, answer = child, []
            elif child.tag == "dd" and term is not None:
                answer.append(child)
        if term is not None:
            entries.append(_definition(term, answer, page_url, len(entries) + 1))
    return entries


def _dl_items(dl: Node) -> List[Node]:
    items: List[Node] = []
    for child in dl.children:
        if isinstance(child, Node):
            items.extend(_dl_items(child) if child.tag == "div" else [child])
    return items


def _definition(term: Node, answer: List[Union[Node, str]], page_url: Optional[str], number: int) -> RawEntry:
    return RawEntry(where=f"item {number}", question=question_text(text_of(term)),
                    answer=render_markdown(answer, page_url),
                    anchor_url=with_fragment(page_url, anchor_of(term)))


def _outermost(root: Node, tag: str) -> List[Node]:
    found: List[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.tag == tag:
            found.append(node)
            continue
        if node is root or not _left_out(node):
            stack.extend(child for child in reversed(node.children) if isinstance(child, Node))
    return found


def read_headings(root: Node, page_url: Optional[str]) -> Optional[Reading]:
    """Entries from headings and the content after them, or None if the page has no headings."""
    events = _linearise(root)
    levels: List[int] = [int(item.tag[1]) for kind, item in events if kind == "heading" and isinstance(item, Node)]
    if not levels:
        return None
    asking = Counter(int(item.tag[1]) for kind, item in events
                     if kind == "heading" and isinstance(item, Node) and text_of(item).endswith("?"))
    counts = asking or Counter(levels)
    level = max(counts, key=lambda lv: (counts[lv], lv))
    entries: List[RawEntry] = []
    current: Optional[Node] = None
    answer: List[Union[Node, str]] = []

    def close() -> None:
        if current is not None:
            entries.append(RawEntry(where=f"item {len(entries) + 1}", question=question_text(text_of(current)),
                                    answer=render_markdown(answer, page_url),
                                    anchor_url=with_fragment(page_url, anchor_of(current))))

    for kind, item in events:
        if kind == "heading" and isinstance(item, Node) and int(item.tag[1]) <= level:
            close()
            current, answer = (item, []) if int(item.tag[1]) == level else (None, [])
        elif current is not None:
            answer.append(item)
    close()
    return f"headings (h{level})", entries


def _linearise(root: Node) -> List[Tuple[str, Union[Node, str]]]:
    """The content as a flat sequence: headings, and the largest pieces that contain no heading."""
    has_heading = _with_headings(root)
    events: List[Tuple[str, Union[Node, str]]] = []
    stack: List[Union[Node, str]] = list(reversed(root.children))
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item.strip():
                events.append(("content", item))
        elif item.tag in HEADINGS:
            events.append(("heading", item))
        elif _left_out(item):
            continue
        elif id(item) in has_heading:
            stack.extend(reversed(item.children))
        else:
            events.append(("content", item))
    return events


def _with_headings(root: Node) -> Set[int]:
    """The ids of elements that contain a heading somewhere below them."""
    marked: Set[int] = set()
    for node in iter_nodes(root):
        if node.tag in HEADINGS:
            parent = node.parent
            while parent is not None and id(parent) not in marked:
                marked.add(id(parent))
                parent = parent.parent
    return marked
