"""Link targets an answer may keep: absolute http(s), mailto and tel; everything else becomes plain text."""

from __future__ import annotations

import re
from typing import Optional
from urllib.parse import urljoin, urlsplit

from bot.kb.links import MARKDOWN_LINK, link_problem

LINK_ERRORS = frozenset(("link_empty", "link_javascript", "link_malformed"))
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_KEPT_SCHEMES = ("http", "https", "mailto", "tel")
_URL_NOISE = re.compile(r"[\t\n\r\x00-\x1f]")
_ENCODE = {" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E", '"': "%22", "[": "%5B", "]": "%5D"}


def resolve_url(href: str, base: Optional[str]) -> Optional[str]:
    """The absolute, safe form of a link target, or None when the link must go (text kept).

    ``javascript:``, ``data:``, ``vbscript:``, ``file:`` and other schemes are dropped; a relative target is
    made absolute against ``base`` (``--source-url`` or the page's ``<base href>``) and dropped without one.

    Args:
        href: the target as written in the page.
        base: the page's URL, if known.
    """
    target = _URL_NOISE.sub("", href).strip()
    if not target:
        return None
    match = _SCHEME.match(target)
    if match:
        if match.group(1).lower() not in _KEPT_SCHEMES:
            return None
        url = target
    elif base and is_http_url(base):
        url = urljoin(base, target)
    else:
        return None
    if url.lower().startswith("tel:"):
        url = "tel:" + re.sub(r"\s+", "", url[4:].replace("%20", ""))
    url = "".join(_ENCODE.get(char, char) for char in url)
    return None if link_problem(url) in LINK_ERRORS else url


def is_http_url(value: Optional[str]) -> bool:
    """Whether ``value`` is an absolute http(s) URL with a host."""
    if not value:
        return False
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in value)


def with_fragment(page_url: Optional[str], fragment: Optional[str]) -> Optional[str]:
    """``page_url`` pointing at ``fragment`` (an element id), or None without a usable page URL or fragment."""
    if not page_url or not fragment or not is_http_url(page_url):
        return None
    fragment = fragment.strip().lstrip("#")
    if not fragment or any(c.isspace() for c in fragment):
        return None
    return page_url.split("#", 1)[0] + "#" + "".join(_ENCODE.get(char, char) for char in fragment)


def defuse_links(markdown: str, base: Optional[str] = None) -> str:
    """Markdown links whose target is unsafe or unusable replaced by their text; relative targets made absolute.

    Images (``![alt](src)``) are removed: the chat shows no images.
    """
    markdown = re.sub(r"!\[[^\]]*\]\((?:[^()]|\([^()]*\))*\)", "", markdown)

    def fix(match: "re.Match[str]") -> str:
        text, target = match.group(1), match.group(2).strip()
        url = resolve_url(target.split()[0] if target else "", base)
        return f"[{text}]({url})" if url and text.strip() else (text or "")

    return MARKDOWN_LINK.sub(fix, markdown)
