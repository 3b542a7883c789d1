"""Questions and answers from schema.org microdata (``itemscope``/``itemprop`` ``Question`` and ``Answer``).

A question's text is its ``name`` property (``text`` if it has no name); the answer is the ``text`` property
of its ``acceptedAnswer`` (or ``suggestedAnswer``), and where a page puts the answer under another property
(schema.org's own FAQ uses ``name``) the whole ``Answer`` element.
"""

from __future__ import annotations

import re
from typing import Iterator, List, Optional

from bot.editor.importing.html_tree import HtmlDocument, Node, anchor_of, attr_words, clean_text, iter_nodes, text_of
from bot.editor.importing.records import RawEntry
from bot.editor.importing.to_markdown import render_markdown
from bot.editor.importing.urls import with_fragment

_QUESTION_PREFIX = re.compile(r"^(?:q|f|frage|question)\s*[:.)]\s*", re.IGNORECASE)
_NUMBERING = re.compile(r"^\d{1,3}[.)]\s+(?=\S)")


def is_type(node: Node, name: str) -> bool:
    """Whether the element is an item of the schema.org type ``name`` (any vocabulary URL form)."""
    if "itemscope" not in node.attrs:
        return False
    return any(re.split(r"[/#:]", url)[-1] == name.lower() for url in attr_words(node, "itemtype"))


def read_microdata(doc: HtmlDocument, page_url: Optional[str]) -> List[RawEntry]:
    """Every microdata ``Question`` of the page with its answer, in document order.

    Args:
        doc: the parsed page.
        page_url: the page's URL: makes links and anchors absolute.
    """
    entries: List[RawEntry] = []
    for question in iter_nodes(doc.root):
        if not is_type(question, "question") or _inside_question(question):
            continue
        name = _property(question, "name") or _property(question, "text")
        answer = _property(question, "acceptedanswer") or _property(question, "suggestedanswer")
        body = ""
        if answer is not None:
            text = _property(answer, "text") if "itemscope" in answer.attrs else None
            target = text if text is not None else answer
            body = render_markdown(target.children, page_url) if target.tag != "meta" else \
                clean_text(target.attrs.get("content", ""))
        fragment = question.attrs.get("id") or (anchor_of(name) if name is not None else None)
        entries.append(RawEntry(
            where=f"item {len(entries) + 1}",
            question=question_text(_value(name) if name is not None else ""),
            answer=body,
            anchor_url=with_fragment(page_url, fragment),
            lang=question.attrs.get("lang") or None,
        ))
    return entries


def question_text(text: str) -> str:
    """A question as a title: one line, a leading "Q:"/"Frage:" or "3." removed."""
    text = clean_text(text)
    text = _QUESTION_PREFIX.sub("", text, count=1)
    return _NUMBERING.sub("", text, count=1).strip()


def _inside_question(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if is_type(parent, "question"):
            return True
        parent = parent.parent
    return False


def _property(item: Node, name: str) -> Optional[Node]:
    """The first element below ``item`` carrying property ``name`` for ``item`` itself (not a nested item)."""
    for node in _own_descendants(item):
        if name in attr_words(node, "itemprop"):
            return node
    return None


def _own_descendants(item: Node) -> Iterator[Node]:
    """Elements below ``item`` whose properties belong to it: the walk does not enter nested items."""
    stack = [child for child in reversed(item.children) if isinstance(child, Node)]
    while stack:
        node = stack.pop()
        yield node
        if "itemscope" not in node.attrs:
            stack.extend(child for child in reversed(node.children) if isinstance(child, Node))


def _value(node: Node) -> str:
    if node.tag == "meta":
        return node.attrs.get("content", "")
    return text_of(node)
