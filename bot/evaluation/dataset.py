"""Labelled messages: one JSON object per line, ``{"text": ..., "expected": [faq ids], "lang": ...}``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

from bot.decision.routing import RouteSignals


@dataclass(frozen=True)
class Example:
    """A citizen message and the FAQ ids that count as a correct answer (empty: out of scope).

    ``signals`` is filled by the evaluation once the message is embedded (routing as the bot does).
    """

    text: str
    expected: Tuple[str, ...]
    lang: Optional[str] = None
    signals: Optional[RouteSignals] = field(default=None, compare=False, repr=False)

    @property
    def in_scope(self) -> bool:
        """Whether some FAQ answers the message."""
        return bool(self.expected)


def load_examples(path: Path) -> List[Example]:
    """Read a JSONL file of labelled messages.

    Raises:
        ValueError: a line is not valid; the message names file and line.
    """
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text, expected = item["text"], item["expected"]
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path}:{number}: expected {{\"text\": ..., \"expected\": [...]}} ({err})") from None
        if not isinstance(text, str) or not isinstance(expected, list):
            raise ValueError(f"{path}:{number}: 'text' must be a string and 'expected' a list of FAQ ids")
        examples.append(Example(text, tuple(str(e) for e in expected), item.get("lang")))
    return examples
