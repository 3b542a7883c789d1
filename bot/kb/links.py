"""Find and judge the links in an answer, offline by default.

Only the form of a link is checked: its scheme, that it has a host and no spaces.
Nothing is fetched unless :func:`reachable` is called explicitly (``online=True`` in
:func:`bot.kb.check.check_kb`), so the check runs without network access.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Iterator, Optional

MARKDOWN_LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(((?:[^()]|\([^()]*\))*)\)")
AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]*:[^>]*)>")
TITLE = re.compile(r"^(\S+)\s+[\"'(].*[\"')]$")
HTTP_URL = re.compile(r"^https?://[^\s/?#]+(?:[/?#]\S*)?$", re.IGNORECASE)
HOST = re.compile(r"^https?://([^/\s?#:@]+)", re.IGNORECASE)
MAILTO = re.compile(r"^mailto:[^\s@]+@[^\s@]+\.[^\s@]+$", re.IGNORECASE)
TEL = re.compile(r"^tel:\+?[0-9][0-9()./-]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Link:
    """One link in a markdown text.

    Attributes:
        text: the visible text.
        url: the target as written (an optional ``"title"`` removed).
        offset: the character offset of the link in the text.
    """

    text: str
    url: str
    offset: int


def find_links(markdown: str) -> Iterator[Link]:
    """Every ``[text](url)`` and ``<scheme:...>`` link of a markdown text, in order."""
    found = [Link(m.group(1), _without_title(m.group(2).strip()), m.start()) for m in MARKDOWN_LINK.finditer(markdown)]
    found += [Link(m.group(1), m.group(1).strip(), m.start()) for m in AUTOLINK.finditer(markdown)]
    return iter(sorted(found, key=lambda link: link.offset))


def _without_title(target: str) -> str:
    match = TITLE.match(target)
    return match.group(1) if match else target


def link_problem(url: str) -> Optional[str]:
    """The finding code for a link target, or None when it is fine.

    Returns:
        ``link_empty``, ``link_javascript`` or ``link_malformed`` (errors), ``link_http``
        (a warning: plain http where https is expected), or None.
    """
    target = url.strip()
    lower = target.lower()
    if not target or target in ("<>", "#"):
        return "link_empty"
    if lower.replace(" ", "").startswith(("javascript:", "vbscript:", "data:")):
        return "link_javascript"
    if any(char.isspace() for char in target):
        return "link_malformed"
    if lower.startswith(("http://", "https://")):
        host = HOST.match(target)
        if not HTTP_URL.match(target) or not host or "." not in host.group(1) or ".." in host.group(1):
            return "link_malformed"
        return "link_http" if lower.startswith("http://") else None
    if lower.startswith("mailto:"):
        return None if MAILTO.match(target) else "link_malformed"
    if lower.startswith("tel:"):
        return None if TEL.match(target) else "link_malformed"
    return "link_malformed"


def reachable(url: str, timeout: float = 5.0) -> Optional[str]:
    """Ask the server for ``url`` with a HEAD request (network access!).

    Args:
        url: an http(s) URL.
        timeout: seconds to wait.

    Returns:
        None when the page answers with a status below 400, else a short reason.
    """
    if not url.lower().startswith(("http://", "https://")):
        return None
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "auskunft-kb-check"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http(s) only, checked above)
            status = int(response.status)
    except urllib.error.HTTPError as err:
        status = err.code
    except (urllib.error.URLError, OSError, ValueError) as err:
        return type(err).__name__
    return None if status < 400 else f"HTTP {status}"
