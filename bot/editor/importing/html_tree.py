"""A forgiving HTML tree built with the standard library's ``html.parser``, safe for hostile pages.

Scripts, styles, iframes, embedded objects and form controls are dropped with their content while parsing
(only ``application/ld+json`` scripts are kept, as raw text, for :mod:`.jsonld`); only the attributes the
importer reads are kept, so ``onclick`` and friends never reach the tree. Unclosed and misnested tags are
closed the way browsers roughly do (a new ``<li>`` ends the previous one, a block ends an open ``<p>``),
and nesting deeper than :data:`MAX_DEPTH` is flattened, so no input can exhaust the stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Dict, Iterator, List, Optional, Tuple, Union

from bot.editor.importing.errors import FaqImportError

MAX_DEPTH = 200
VOID = frozenset("area base br col embed hr img input keygen link meta param source track wbr".split())
SKIP_CONTENT = frozenset(
    "iframe noscript noembed noframes template object applet svg math canvas audio video select textarea "
    "frameset title".split()
)
KEPT_ATTRIBUTES = frozenset(
    "id name href itemscope itemtype itemprop content lang rel property type start open role alt".split()
)
CLOSES_P = frozenset(
    "address article aside blockquote details dialog div dl dd dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hgroup hr li main menu nav ol p pre section summary table ul".split()
)
HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
ENDS_HEADING = frozenset("p ul ol dl table blockquote pre details form hr".split())
BLOCK_TEXT = frozenset(CLOSES_P | {"br", "tr", "td", "th", "caption", "body", "html"})
_P_SCOPE = frozenset(("table", "td", "th", "caption", "button", "html"))
_BAD_MARKED_SECTION = re.compile(r"<!\[(?!CDATA\[)[^>]*>?", re.IGNORECASE)  # <![if !IE]>: the parser would fail
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)


class Node:
    """One element: its tag, the kept attributes and its children (elements and text)."""

    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag: str, attrs: Dict[str, str], parent: Optional["Node"] = None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: List[Union["Node", str]] = []
        self.parent = parent

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"


@dataclass
class HtmlDocument:
    """A parsed page.

    Attributes:
        root: the document node (its children are the top-level elements).
        lang: the language declared on ``<html lang>``, if any.
        base_href: ``<base href>``, if any.
        canonical: the page's own URL from ``<link rel=canonical>`` or ``og:url``, if any.
        jsonld: the raw text of every ``<script type="application/ld+json">``.
    """

    root: Node
    lang: Optional[str] = None
    base_href: Optional[str] = None
    canonical: Optional[str] = None
    jsonld: List[str] = field(default_factory=list)

    def body(self) -> Node:
        """The ``<body>`` element, or the document when there is none (a fragment)."""
        for node in iter_nodes(self.root):
            if node.tag == "body":
                return node
        return self.root


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.doc = HtmlDocument(Node("#document", {}))
        self.stack: List[Node] = [self.doc.root]
        self.skipping: Optional[Tuple[str, int]] = None  # (tag, nesting) while inside dropped content
        self.script: Optional[List[str]] = None  # collecting an ld+json script
        self.in_raw: Optional[str] = None  # inside <script> or <style> (the parser hands their text as data)

    # --- elements -----------------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        self._start(tag.lower(), attrs, self_closing=False)

    def handle_startendtag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        self._start(tag.lower(), attrs, self_closing=True)

    def _start(self, tag: str, raw_attrs: List[Tuple[str, Optional[str]]], self_closing: bool) -> None:
        if self.skipping is not None:
            if tag == self.skipping[0] and not self_closing:
                self.skipping = (tag, self.skipping[1] + 1)
            return
        attrs: Dict[str, str] = {}
        for name, value in raw_attrs:
            key = name.lower()
            if key in KEPT_ATTRIBUTES and key not in attrs:
                attrs[key] = value if value is not None else ""
        if tag in ("script", "style"):
            if not self_closing:
                self.in_raw = tag
                if tag == "script" and "ld+json" in attrs.get("type", "").lower():
                    self.script = []
            return
        if tag in SKIP_CONTENT:
            if not self_closing:
                self.skipping = (tag, 1)
            return
        self._head_info(tag, attrs)
        self._implied_ends(tag)
        parent = self.stack[-1]
        node = Node(tag, attrs, parent)
        parent.children.append(node)
        if tag not in VOID and not self_closing and len(self.stack) < MAX_DEPTH:
            self.stack.append(node)

    def _head_info(self, tag: str, attrs: Dict[str, str]) -> None:
        doc = self.doc
        if tag == "html" and attrs.get("lang") and doc.lang is None:
            doc.lang = attrs["lang"]
        elif tag == "base" and attrs.get("href") and doc.base_href is None:
            doc.base_href = attrs["href"].strip()
        elif tag == "link" and "canonical" in attrs.get("rel", "").lower().split() and attrs.get("href"):
            doc.canonical = doc.canonical or attrs["href"].strip()
        elif tag == "meta" and attrs.get("property", "").lower() == "og:url" and attrs.get("content"):
            doc.canonical = doc.canonical or attrs["content"].strip()

    def _implied_ends(self, tag: str) -> None:
        if tag == "li":
            self._close_open("li", stop=("ul", "ol", "menu"))
        elif tag in ("dt", "dd"):
            self._close_open("dt", "dd", stop=("dl",))
        elif tag == "tr":
            self._close_open("tr", stop=("table", "thead", "tbody", "tfoot"))
        elif tag in ("td", "th"):
            self._close_open("td", "th", stop=("tr", "table"))
        elif tag == "a":
            self._close_open("a", stop=())
        if tag in HEADINGS and self.stack[-1].tag in HEADINGS:
            self.stack.pop()
        if tag in ENDS_HEADING:  # an unclosed heading does not swallow the answer after it
            self._close_open(*HEADINGS, stop=())
        if tag in CLOSES_P:
            self._close_open("p", stop=tuple(_P_SCOPE))

    def _close_open(self, *tags: str, stop: Tuple[str, ...]) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            current = self.stack[index].tag
            if current in tags:
                del self.stack[index:]
                return
            if current in stop:
                return

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if self.skipping is not None:
            name, depth = self.skipping
            if tag == name:
                self.skipping = (name, depth - 1) if depth > 1 else None
            return
        if tag in ("script", "style"):
            if self.script is not None:
                self.doc.jsonld.append("".join(self.script))
            self.script, self.in_raw = None, None
            return
        if tag in ("html", "body"):
            return
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    # --- text ---------------------------------------------------------------------------------------------
    def handle_data(self, data: str) -> None:
        if self.in_raw is not None:
            if self.script is not None:
                self.script.append(data)
            return
        if self.skipping is not None or not data:
            return
        children = self.stack[-1].children
        if children and isinstance(children[-1], str):
            children[-1] += data
        else:
            children.append(data)


def parse_html(text: str) -> HtmlDocument:
    """Parse ``text`` into a tree; scripts and other active content are gone.

    Raises:
        FaqImportError: the parser gave up on the markup.
    """
    builder = _TreeBuilder()
    try:
        builder.feed(_BAD_MARKED_SECTION.sub("", text))
        builder.close()
    except (AssertionError, ValueError, RecursionError) as err:
        raise FaqImportError(f"the HTML could not be read ({err}); save the page again from the browser "
                             "('Save page as', HTML only) and retry") from None
    if builder.script is not None:  # an ld+json script left open at the end of the file
        builder.doc.jsonld.append("".join(builder.script))
    return builder.doc


def iter_nodes(node: Node) -> Iterator[Node]:
    """``node`` and every element below it, in document order (iterative, any depth)."""
    stack: List[Node] = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child for child in reversed(current.children) if isinstance(child, Node))


def text_of(node: Union[Node, str]) -> str:
    """The visible text of ``node`` on one line: blocks and line breaks become spaces, whitespace collapsed."""
    if isinstance(node, str):
        return clean_text(node)
    parts: List[str] = []
    stack: List[Union[Node, str]] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            parts.append(current)
            continue
        if current.tag in BLOCK_TEXT:
            parts.append(" ")
        stack.extend(reversed(current.children))
    return clean_text("".join(parts))


def clean_text(text: str) -> str:
    """Text on one line: see :func:`collapse_spaces`, then stripped."""
    return collapse_spaces(text).strip()


def collapse_spaces(text: str) -> str:
    """Whitespace runs as one space (kept at the edges), soft hyphens, zero-width and control characters gone."""
    text = _CONTROL.sub("", text.translate(_INVISIBLE))
    return _SPACE.sub(" ", text)


def attr_words(node: Node, name: str) -> List[str]:
    """The whitespace-separated words of an attribute, lowercased (``itemprop``, ``itemtype``, ``rel``)."""
    return node.attrs.get(name, "").lower().split()


def anchor_of(node: Node) -> Optional[str]:
    """The fragment that points at ``node``: its ``id``, or the ``id``/``name`` of an anchor just inside it."""
    if node.attrs.get("id", "").strip():
        return node.attrs["id"].strip()
    for inner in iter_nodes(node):
        if inner is node:
            continue
        if inner.tag == "a" and not inner.attrs.get("href"):
            value = (inner.attrs.get("id") or inner.attrs.get("name") or "").strip()
            if value:
                return value
        if inner.attrs.get("id", "").strip():
            return inner.attrs["id"].strip()
    return None
