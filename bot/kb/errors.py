"""Errors an editor can act on: each names the file, the line and the field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence


@dataclass(frozen=True)
class KbIssue:
    """One problem in one kb file."""

    path: str
    line: int
    field: Optional[str]
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class KbValidationError(ValueError):
    """The kb has one or more invalid files; nothing was loaded."""

    def __init__(self, issues: Sequence[KbIssue]) -> None:
        self.issues = list(issues)
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        super().__init__(f"the knowledge base has {len(self.issues)} problem(s):\n{lines}")
