"""Judge an entry typed into the editor's form exactly as a file: the kb loader, then the rules of ``kb check``.

The text is written to a temporary copy at the file's place in the kb layer and parsed by
:func:`bot.kb.loader.parse_entry`; a valid entry then gets every check of :func:`bot.kb.rules.check_entry` (tags
against the layer's ``_tags.yml``, placeholders, links, length, plain language). An id another file of the layer
uses already is an error, as in ``kb check``. Errors block saving; warnings and notes are shown but do not.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Dict, List, Optional

from bot.kb.check import load_tag_vocabulary
from bot.kb.errors import KbIssue, KbValidationError
from bot.kb.loader import ParsedEntry, parse_entry, scan_kb
from bot.kb.rules import Finding, check_entry, from_issue, severity_rank

LANG = "de"
GENERAL = ""  # the key of problems that belong to no single field


@dataclass(frozen=True)
class Problem:
    """One message for the form, in German: which field, how bad, what is wrong and what to do."""

    field: str
    severity: str
    code: str
    message: str
    hint: str


@dataclass
class EntryCheck:
    """Everything found about one entry text.

    Attributes:
        problems: errors first, then warnings and notes.
        parsed: the parsed entry when the loader accepted the text.
    """

    problems: List[Problem] = field(default_factory=list)
    parsed: Optional[ParsedEntry] = None

    @property
    def ok(self) -> bool:
        """Whether the text may be saved (no errors)."""
        return not any(p.severity == "error" for p in self.problems)

    def by_field(self) -> Dict[str, List[Problem]]:
        """The problems per form field (``""``: problems of no single field)."""
        found: Dict[str, List[Problem]] = {}
        for problem in self.problems:
            found.setdefault(problem.field, []).append(problem)
        return found


def _problem(finding: Finding) -> Problem:
    return Problem(finding.field or GENERAL, finding.severity, finding.code, finding.message(LANG), finding.hint(LANG))


def check_text(text: str, relative_path: str, layer: Path, today: Optional[date] = None,
               own_path: Optional[str] = None) -> EntryCheck:
    """Load and check ``text`` as the kb file ``relative_path`` of ``layer``.

    Args:
        text: the whole file (front matter and answer).
        relative_path: where the file is (or would be) in the layer, e.g. ``abfall/sperrmuell.md``.
        layer: the kb directory the file belongs to (its ``_tags.yml`` and the other entries' ids).
        today: the date for review checks (default: today).
        own_path: the file's current path in the layer when it exists already (its own id is no duplicate).

    Returns:
        The problems found and, if the loader accepted the text, the parsed entry.
    """
    today = today or date.today()
    with tempfile.TemporaryDirectory(prefix="auskunft-entry-") as tmp:
        trial = Path(tmp) / relative_path
        trial.parent.mkdir(parents=True, exist_ok=True)
        trial.write_text(text, encoding="utf-8")
        try:
            parsed = parse_entry(trial, Path(tmp))
        except KbValidationError as err:
            return EntryCheck(sorted((_problem(from_issue(issue)) for issue in err.issues), key=_order))
    known_tags, _ = load_tag_vocabulary(layer) if layer.is_dir() else (None, [])
    findings = check_entry(parsed, known_tags, today)
    duplicate = _duplicate(parsed, layer, own_path or relative_path)
    if duplicate is not None:
        findings.insert(0, from_issue(duplicate))
    return EntryCheck(sorted((_problem(f) for f in findings), key=_order), parsed)


def _duplicate(parsed: ParsedEntry, layer: Path, own_path: str) -> Optional[KbIssue]:
    """The loader's ``duplicate_id`` issue if another file of the layer has the entry's id."""
    entries, _ = scan_kb(layer) if layer.is_dir() else ([], [])
    other = next((item.entry for item in entries if item.entry.id == parsed.entry.id and item.entry.path != own_path),
                 None)
    if other is None:
        return None
    return KbIssue(parsed.entry.path, parsed.lines.get("id", 2), "id",
                   f"duplicate id '{other.id}', also used in {other.path}", "duplicate_id",
                   {"id": other.id, "other": other.path})


def _order(problem: Problem) -> tuple:
    return (severity_rank(problem.severity), problem.field, problem.code)
