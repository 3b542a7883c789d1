"""Answer HTML as the markdown subset the chat widget renders: paragraphs, lists, **bold**, links, line breaks.

The widget (``bot/web/static/widget/auskunft.js``) shows blank-line paragraphs, a single newline as a line
break, ``-``/``1.`` list items, ``**bold**`` and ``[text](url)`` links, and nothing else; so italic and code
are kept as plain text (asterisks would show literally), headings inside an answer become bold lines,
tables one line per row. No HTML survives: tags become markdown or disappear, and text that merely looks
like a tag (``<script>`` written as text on the page) is broken up as ``< script>``, so no markdown
renderer can take it for HTML. Links keep only absolute http(s), mailto and tel targets (see :mod:`.urls`).
"""

from __future__ import annotations

import html
import re
from typing import List, Optional, Sequence, Union

from bot.editor.importing.html_tree import HEADINGS, Node, clean_text, collapse_spaces, parse_html, text_of
from bot.editor.importing.urls import defuse_links, resolve_url

BLOCKS = frozenset(
    "address article aside blockquote body center details dialog div dl dd dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hgroup hr html li main menu nav ol p pre section summary table tbody thead "
    "tfoot tr td th caption ul".split()
)
BOLD = frozenset(("strong", "b"))
TAG_LIKE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?/?>|<!--")
ESCAPED_TAG = re.compile(r"&lt;/?[a-zA-Z][a-zA-Z0-9-]*(?:\s.*?)?/?&gt;", re.IGNORECASE)
_LOOKS_LIKE_MARKUP = re.compile(r"<(?=[A-Za-z/!?])")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2007\u202f]+")
Child = Union[Node, str]


def html_to_markdown(source: str, base_url: Optional[str] = None) -> str:
    """An answer given as HTML (or as plain text) in markdown.

    HTML that arrives escaped once more (``&lt;p&gt;``, common in CMS exports and JSON-LD) is unescaped first.

    Args:
        source: the answer's HTML or text.
        base_url: the page's URL, to make relative links absolute (without it they become plain text).
    """
    if not TAG_LIKE.search(source) and ESCAPED_TAG.search(source):
        source = html.unescape(source)
    if not TAG_LIKE.search(source):
        return text_to_markdown(source)
    return render_markdown(parse_html(source).root.children, base_url)


def html_to_text(source: str) -> str:
    """A question given as HTML or text, as one line of plain text."""
    if not TAG_LIKE.search(source) and ESCAPED_TAG.search(source):
        source = html.unescape(source)
    if not TAG_LIKE.search(source):
        return clean_text(html.unescape(source))
    return text_of(parse_html(source).root)


def text_to_markdown(text: str) -> str:
    """Plain text (entities unescaped): blank lines separate paragraphs, single newlines stay line breaks."""
    text = html.unescape(text).replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [_inline_text(line).strip() for line in block.split("\n")]
        joined = "\n".join(line for line in lines if line)
        if joined:
            paragraphs.append(joined)
    return defuse_links("\n\n".join(paragraphs))


def render_markdown(nodes: Sequence[Child], base_url: Optional[str] = None) -> str:
    """Elements and text of a page, in order, as markdown blocks separated by blank lines."""
    blocks = _Renderer(base_url).blocks(nodes)
    return defuse_links("\n\n".join(blocks), base_url).strip()


def _inline_text(text: str) -> str:
    """Text as it appears inline: whitespace collapsed, invisible characters gone, no tag-like ``<x``."""
    return _LOOKS_LIKE_MARKUP.sub("< ", collapse_spaces(text))


class _Renderer:
    def __init__(self, base_url: Optional[str]) -> None:
        self.base_url = base_url

    # --- blocks -------------------------------------------------------------------------------------------
    def blocks(self, children: Sequence[Child]) -> List[str]:
        out: List[str] = []
        line: List[str] = []
        for child in children:
            if isinstance(child, str):
                line.append(_inline_text(child))
            elif child.tag == "br":
                line.append("\n")
            elif child.tag in BLOCKS:
                out.extend(_paragraphs("".join(line)))
                line.clear()
                out.extend(self.block(child))
            else:
                line.append(self.inline(child, bold=False, plain=False))
        out.extend(_paragraphs("".join(line)))
        return [block for block in out if block.strip()]

    def block(self, node: Node) -> List[str]:
        tag = node.tag
        if tag in ("ul", "ol", "menu"):
            return self.listing(node, ordered=tag == "ol")
        if tag == "li":
            return self.listing(_wrapper(node), ordered=False)
        if tag == "dl":
            return self.definitions(node)
        if tag in HEADINGS or tag in ("dt", "summary", "caption"):
            return _bold_lines(self.inline_children(node.children, bold=True, plain=False))
        if tag == "pre":
            lines = [_inline_text(line).strip() for line in _raw_text(node).split("\n")]
            return ["\n".join(line for line in lines if line)]
        if tag == "table":
            return self.table(node)
        if tag == "hr":
            return []
        return self.blocks(node.children)

    def listing(self, node: Node, ordered: bool) -> List[str]:
        items: List[str] = []
        number = _start(node) if ordered else 0
        for child in node.children:
            if isinstance(child, str):
                blocks = _paragraphs(_inline_text(child))
            elif child.tag == "li":
                blocks = self.blocks(child.children)
            elif child.tag in ("ul", "ol") and items:
                items[-1] += "\n" + _indent("\n".join(self.block(child)), 2)
                continue
            else:
                blocks = self.blocks([child])
            if not blocks:
                continue
            marker = f"{number}. " if ordered else "- "
            number += 1
            pad = len(marker)
            lines = [marker + blocks[0].replace("\n", "\n" + " " * pad)]
            lines += [_indent(block, pad) for block in blocks[1:]]
            items.append("\n".join(lines))
        return ["\n".join(items)] if items else []

    def definitions(self, node: Node) -> List[str]:
        out: List[str] = []
        for child in node.children:
            if isinstance(child, str):
                out.extend(_paragraphs(_inline_text(child)))
            elif child.tag == "div":
                out.extend(self.definitions(child))
            else:
                out.extend(self.block(child) if child.tag in BLOCKS else self.blocks([child]))
        return out

    def table(self, node: Node) -> List[str]:
        rows: List[str] = []
        stack: List[Node] = [node]
        while stack:
            current = stack.pop()
            if current.tag == "tr":
                cells = [self.inline_children(cell.children, bold=False, plain=False).strip()
                         for cell in current.children if isinstance(cell, Node) and cell.tag in ("td", "th")]
                row = " | ".join(" ".join(cell.split()) for cell in cells if cell.strip())
                if row:
                    rows.append(row)
                continue
            stack.extend(child for child in reversed(current.children) if isinstance(child, Node))
        return ["\n".join(rows)] if rows else []

    # --- inline -------------------------------------------------------------------------------------------
    def inline_children(self, children: Sequence[Child], bold: bool, plain: bool) -> str:
        parts: List[str] = []
        for child in children:
            if isinstance(child, str):
                parts.append(_inline_text(child))
            elif child.tag == "br":
                parts.append(" " if plain else "\n")
            else:
                parts.append(self.inline(child, bold, plain))
        return "".join(parts)

    def inline(self, node: Node, bold: bool, plain: bool) -> str:
        tag = node.tag
        if tag == "a":
            return self.link(node, plain)
        if tag in ("img", "button"):
            return ""
        if tag in BOLD and not bold and not plain:
            return _wrap(self.inline_children(node.children, bold=True, plain=False), "**")
        inner = self.inline_children(node.children, bold, plain)
        return f" {inner} " if tag in BLOCKS else inner

    def link(self, node: Node, plain: bool) -> str:
        text = " ".join(self.inline_children(node.children, bold=True, plain=True).split())
        text = text.replace("[", "(").replace("]", ")")
        url = resolve_url(node.attrs.get("href", ""), self.base_url)
        if not text:
            images = [child.attrs.get("alt", "") for child in node.children if isinstance(child, Node)]
            text = " ".join(" ".join(images).split()) or (url or "")
        if plain or url is None or not text:
            return text
        return f"[{text}]({url})"


def _wrapper(node: Node) -> Node:
    wrapper = Node("ul", {})
    wrapper.children = [node]
    return wrapper


def _start(node: Node) -> int:
    try:
        return max(0, int(node.attrs.get("start", "1").strip()))
    except ValueError:
        return 1


def _paragraphs(text: str) -> List[str]:
    """Inline text cut into paragraphs at empty lines; each line stripped, spaces collapsed."""
    out: List[str] = []
    lines: List[str] = []
    for raw in text.split("\n"):
        line = _SPACES.sub(" ", raw).strip()
        if line:
            lines.append(line)
        elif lines:
            out.append("\n".join(lines))
            lines = []
    if lines:
        out.append("\n".join(lines))
    return out


def _wrap(inner: str, marker: str) -> str:
    """``inner`` between markers, line by line, with its outer whitespace kept outside the markers."""
    if not inner.strip():
        return inner
    wrapped = []
    for line in inner.split("\n"):
        core = line.strip()
        if not core:
            wrapped.append(line)
            continue
        lead = line[: len(line) - len(line.lstrip())]
        tail = line[len(line.rstrip()):]
        wrapped.append(f"{lead}{marker}{core.replace(marker, '')}{marker}{tail}")
    return "\n".join(wrapped)


def _bold_lines(text: str) -> List[str]:
    lines = [_SPACES.sub(" ", line).strip().replace("**", "") for line in text.split("\n")]
    joined = "\n".join(f"**{line}**" for line in lines if line)
    return [joined] if joined else []


def _indent(block: str, width: int) -> str:
    return "\n".join(" " * width + line if line else line for line in block.split("\n"))


def _raw_text(node: Node) -> str:
    parts: List[str] = []
    stack: List[Child] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            parts.append(current)
        else:
            if current.tag == "br":
                parts.append("\n")
            stack.extend(reversed(current.children))
    return "".join(parts)
