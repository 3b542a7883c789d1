"""The bot's small markdown subset as safe HTML, rendered the way the citizen widget renders it.

The widget (``bot/web/static/widget/auskunft.js``, ``markdown()``) knows paragraphs (blank lines; single line
breaks become ``<br>``), bulleted and numbered lists, ``**bold**``, ``[text](url)`` links and bare
``http(s)://`` addresses; everything else stays literal text (``*italics*`` included, so the staff see the
asterisks the citizen saw). Every piece of text is escaped first; a link becomes ``<a>`` only for an absolute
``http``/``https`` address with a host and no user name, or a ``mailto:``/``tel:`` address without a query
(``?cc=``, ``?body=`` cannot be smuggled in); any other link is shown as its plain text.
"""

from __future__ import annotations

import re
from typing import List
from urllib.parse import urlsplit

from markupsafe import Markup, escape

LIST_ITEM = re.compile(r"^\s*([-*•]|\d{1,3}[.)])\s+")
INLINE = re.compile(
    r"\*\*([^*\n]+?)\*\*"
    r"|\[([^\]\n]+)\]\(\s*([^()\s]+(?:\([^()\s]*\)[^()\s]*)*)\s*\)"
    r"|(https?://[^\s<>\"]*[^\s<>\".,;:!?)\]])"
)
NEW_TAB = "(öffnet in neuem Tab)"
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


def safe_href(raw: str) -> str:
    """The address if a link to it is harmless, else "" (the link is then shown as text).

    Args:
        raw: The address as written in the markdown.

    Returns:
        ``raw`` for ``http(s)://host/...`` without user name or password, and for ``mailto:``/``tel:`` without
        ``?``; "" for relative addresses, other schemes (``javascript:``, ``data:``) and anything with control
        characters, spaces or backslashes.
    """
    if not raw or _UNSAFE.search(raw):
        return ""
    try:
        parts = urlsplit(raw)
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return raw if parts.hostname and "@" not in parts.netloc else ""
    if scheme in ("mailto", "tel"):
        return raw if parts.path and "?" not in raw and "#" not in raw else ""
    return ""


def _link(text: str, href: str) -> str:
    safe = safe_href(href)
    if not safe:
        return str(escape(text))
    if safe.lower().startswith(("mailto:", "tel:")):
        return f'<a href="{escape(safe)}">{escape(text)}</a>'
    return (f'<a href="{escape(safe)}" target="_blank" rel="noopener noreferrer">{escape(text)}'
            f'<span class="visually-hidden"> {NEW_TAB}</span></a>')


def _inline(text: str) -> str:
    out: List[str] = []
    last = 0
    for match in INLINE.finditer(text):
        out.append(str(escape(text[last:match.start()])))
        bold, label, href, bare = match.groups()
        if bold is not None:
            out.append(f"<strong>{_inline(bold)}</strong>")
        elif label is not None:
            out.append(_link(label, href))
        else:
            out.append(_link(bare, bare))
        last = match.end()
    out.append(str(escape(text[last:])))
    return "".join(out)


def _block(block: str) -> List[str]:
    lines = block.split("\n")
    out: List[str] = []
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        match = LIST_ITEM.match(lines[i])
        if match:
            ordered = any(c.isdigit() for c in match.group(1))
            items = []
            while i < len(lines):
                match = LIST_ITEM.match(lines[i])
                if not match or any(c.isdigit() for c in match.group(1)) != ordered:
                    break
                items.append(f"<li>{_inline(lines[i][match.end():])}</li>")
                i += 1
            tag = "ol" if ordered else "ul"
            out.append(f"<{tag}>{''.join(items)}</{tag}>")
        else:
            parts = []
            while i < len(lines) and lines[i].strip() and not LIST_ITEM.match(lines[i]):
                parts.append(_inline(lines[i]))
                i += 1
            out.append(f"<p>{'<br>'.join(parts)}</p>")
    return out


def render_markdown(text: str) -> Markup:
    """The text as the widget shows it: escaped HTML with paragraphs, lists, bold and safe links only.

    Args:
        text: A bot answer or any other text in the bot's markdown subset.

    Returns:
        HTML safe to insert into a page (every character of ``text`` is escaped or part of an allowed tag).
    """
    normalized = re.sub(r"\r\n?", "\n", str(text or ""))
    blocks = re.split(r"\n{2,}", normalized)
    return Markup("".join(html for block in blocks for html in _block(block)))  # noqa: S704 - all text escaped
