"""Split a long answer into passages that each fit the embedding model's window.

A multi-paragraph page embedded whole is cut at the model's token limit and blurred
into one vector; a question about its fifth paragraph then matches nothing. Each
passage repeats the entry's title so it keeps its context. Short answers stay one
passage, so the common FAQ case is unchanged.
"""

from __future__ import annotations

import re
from typing import List

MAX_CHARS = 600
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _pieces(answer: str, limit: int) -> List[str]:
    """Paragraphs, with over-long ones cut at sentence ends (or hard at ``limit``)."""
    pieces: List[str] = []
    for paragraph in (p.strip() for p in re.split(r"\n\s*\n|\n", answer)):
        if not paragraph:
            continue
        if len(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            while len(sentence) > limit:
                pieces.append(sentence[:limit])
                sentence = sentence[limit:]
            if sentence:
                pieces.append(sentence)
    return pieces


def passages(title: str, answer: str, max_chars: int = MAX_CHARS) -> List[str]:
    """The texts embedded for an answer: title and answer if short, else the title + consecutive pieces.

    Raises:
        ValueError: ``max_chars`` is below 100.
    """
    if max_chars < 100:
        raise ValueError(f"max_chars must be at least 100, got {max_chars}")
    if len(answer) <= max_chars:
        return [f"{title}\n{answer}"]
    chunks: List[str] = []
    current = ""
    for piece in _pieces(answer, max_chars):
        if current and len(current) + 1 + len(piece) > max_chars:
            chunks.append(current)
            current = piece
        else:
            current = f"{current}\n{piece}" if current else piece
    if current:
        chunks.append(current)
    return [f"{title}\n{chunk}" for chunk in chunks]
