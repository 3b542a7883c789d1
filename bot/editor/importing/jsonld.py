"""Questions and answers from schema.org JSON-LD (``FAQPage``, ``QAPage`` or bare ``Question`` nodes).

Questions are found anywhere in a block: at the top, in lists, in ``@graph``, under ``mainEntity`` or
``hasPart``, and through ``{"@id": ...}`` references to other nodes of the page. A block that is not valid
JSON (a trailing comma, an HTML comment or CDATA wrapper, raw control characters) is repaired where that is
safe and otherwise reported and skipped; the other blocks still count.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterator, List, Optional, Tuple

from bot.editor.importing.records import RawEntry
from bot.editor.importing.to_markdown import html_to_markdown, html_to_text
from bot.editor.importing.urls import is_http_url, with_fragment

_WRAPPERS = re.compile(r"^\s*(?:<!--|<!\[CDATA\[|//\s*<!\[CDATA\[)|(?:-->|\]\]>|//\s*\]\]>)\s*$")
_TRAILING_COMMA = re.compile(r",(\s*[\]}])")
MAX_NODES = 500_000


def parse_blocks(blocks: List[str]) -> Tuple[List[Any], List[str]]:
    """The parsed JSON of each block, and a note for each block that could not be read."""
    parsed: List[Any] = []
    notes: List[str] = []
    for number, raw in enumerate(blocks, start=1):
        text = _WRAPPERS.sub("", raw.strip()).strip()
        if not text:
            continue
        try:
            parsed.append(_loads(text))
        except (ValueError, RecursionError) as err:
            notes.append(f"JSON-LD block {number} is not valid JSON and was skipped ({_short(err)})")
    return parsed, notes


def _loads(text: str) -> Any:
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    repaired = _TRAILING_COMMA.sub(r"\1", text)
    try:
        return json.loads(repaired, strict=False)
    except ValueError:
        value, _ = json.JSONDecoder(strict=False).raw_decode(repaired)  # valid JSON followed by garbage
        return value


def _short(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    return text if len(text) < 120 else text[:117] + "..."


def read_jsonld(data: List[Any], page_url: Optional[str]) -> List[RawEntry]:
    """Every question with an answer in the parsed JSON-LD blocks, in document order.

    Args:
        data: the parsed blocks (see :func:`parse_blocks`).
        page_url: the page's URL: makes relative links and ``#anchors`` absolute.
    """
    index = _ids(data)
    entries: List[RawEntry] = []
    for question, lang in _questions(data, index):
        number = len(entries) + 1
        text = html_to_text(_text(question.get("name")) or _text(question.get("text")))
        answer_node = _resolve(_first(question.get("acceptedAnswer")) or _first(question.get("suggestedAnswer")),
                               index)
        answer_html = ""
        if isinstance(answer_node, dict):
            answer_html = _text(answer_node.get("text")) or _text(answer_node.get("name"))
        elif isinstance(answer_node, str):
            answer_html = answer_node
        entries.append(RawEntry(
            where=f"item {number}",
            question=text,
            answer=html_to_markdown(answer_html, page_url) if answer_html else "",
            anchor_url=_anchor(question, page_url),
            lang=_text(question.get("inLanguage")) or lang,
        ))
    return entries


def _questions(data: List[Any], index: Dict[str, Dict[str, Any]]) -> Iterator[Tuple[Dict[str, Any], Optional[str]]]:
    """Question nodes in document order with the nearest ``inLanguage`` above them; each node once."""
    seen: set[int] = set()
    stack: List[Tuple[Any, Optional[str]]] = [(item, None) for item in reversed(data)]
    visited = 0
    while stack and visited < MAX_NODES:
        node, lang = stack.pop()
        visited += 1
        if isinstance(node, list):
            stack.extend((item, lang) for item in reversed(node))
            continue
        if not isinstance(node, dict):
            continue
        node = _resolve(node, index)
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        lang = _text(node.get("inLanguage")) or lang
        if "Question" in _types(node):
            yield node, lang
            continue
        for key, value in reversed(list(node.items())):
            if key not in ("@context", "@type", "@id") and isinstance(value, (dict, list)):
                stack.append((value, lang))


def _ids(data: List[Any]) -> Dict[str, Dict[str, Any]]:
    """Every node with an ``@id`` and more than that id, by id (for references)."""
    index: Dict[str, Dict[str, Any]] = {}
    stack: List[Any] = list(data)
    visited = 0
    while stack and visited < MAX_NODES:
        node = stack.pop()
        visited += 1
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            node_id = node.get("@id")
            if isinstance(node_id, str) and len(node) > 1:
                index.setdefault(node_id, node)
            stack.extend(value for value in node.values() if isinstance(value, (dict, list)))
    return index


def _resolve(node: Any, index: Dict[str, Dict[str, Any]]) -> Any:
    if isinstance(node, dict) and set(node) == {"@id"} and isinstance(node["@id"], str):
        return index.get(node["@id"], node)
    return node


def _types(node: Dict[str, Any]) -> List[str]:
    value = node.get("@type", [])
    names = value if isinstance(value, list) else [value]
    return [re.split(r"[/:#]", name)[-1] for name in names if isinstance(name, str)]


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _text(value: Any) -> str:
    """A text property: a string, a ``{"@value": ...}`` object or the first of a list."""
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("@value")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _anchor(question: Dict[str, Any], page_url: Optional[str]) -> Optional[str]:
    """The question's own URL: its ``url`` or ``@id`` if that has a ``#fragment``, made absolute."""
    for key in ("url", "@id"):
        value = _text(question.get(key))
        if "#" not in value:
            continue
        if is_http_url(value):
            return value
        if value.startswith("#"):
            return with_fragment(page_url, value)
    return None
