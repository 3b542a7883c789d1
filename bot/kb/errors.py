"""Errors an editor can act on: each names the file, the line and the field."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from bot.errors import AuskunftError


@dataclass(frozen=True)
class KbIssue:
    """One problem in one kb file.

    Attributes:
        path: the file, relative to the kb root.
        line: the 1-based line in the file (0: the kb as a whole).
        field: the front-matter field concerned, ``answer`` for the body, or None.
        message: an English description (what ``auskunft kb validate`` prints).
        code: a stable key into :data:`bot.kb.messages.MESSAGES` for translated messages.
        params: values for the placeholders of the translated message.
    """

    path: str
    line: int
    field: Optional[str]
    message: str
    code: str = dataclasses.field(default="", compare=False)
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class KbValidationError(AuskunftError, ValueError):
    """The kb has one or more invalid files; nothing was loaded."""

    def __init__(self, issues: Sequence[KbIssue]) -> None:
        self.issues = list(issues)
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        super().__init__(f"the knowledge base has {len(self.issues)} problem(s):\n{lines}")
