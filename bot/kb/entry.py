"""One FAQ entry as the rest of the system sees it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Optional, Tuple


@dataclass(frozen=True)
class FaqEntry:
    """A validated FAQ entry.

    Attributes:
        id: stable, unique identifier.
        title: the canonical question.
        questions: further phrasings citizens might use.
        lang: ``de`` or ``en``.
        tags: lowercase keywords.
        source: URL of the official page.
        owner: the department responsible for the content.
        updated: date of the last content check.
        review_by: date by which the entry must be reviewed, if any.
        answer: the answer in markdown.
        path: the file the entry came from, relative to the kb root.
        content_hash: SHA-256 of the file's bytes (not part of equality).
        plain: the answer in plain language (Einfache/Leichte Sprache), if written.
        tests: questions that must retrieve this entry (for ``kb diff``); kept out of the
            phrasings and the embedding key, so the index never sees them.
    """

    id: str
    title: str
    questions: Tuple[str, ...]
    lang: str
    tags: Tuple[str, ...]
    source: str
    owner: str
    updated: date
    answer: str
    path: str
    review_by: Optional[date] = None
    content_hash: str = field(default="", compare=False)
    plain: Optional[str] = None
    tests: Tuple[str, ...] = ()

    @property
    def phrasings(self) -> Tuple[str, ...]:
        """The title followed by all further phrasings, without duplicates."""
        seen: dict[str, None] = {}
        for text in (self.title, *self.questions):
            seen.setdefault(text, None)
        return tuple(seen)

    @property
    def passage(self) -> str:
        """The text embedded as a document: the title and the answer."""
        return f"{self.title}\n{self.answer}"

    def embedding_key(self) -> str:
        """A hash of everything that goes into this entry's embeddings (not ``plain`` or ``tests``)."""
        payload = "\x1f".join((self.lang, *self.phrasings, self.passage))
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()
