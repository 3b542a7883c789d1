"""``auskunft kb check``: everything an editor should fix, explained in German or English.

The check reports what the loader rejects (errors) and editorial problems (warnings and
notes): broken links, unknown tags, overdue reviews, answers too long for a chat window,
hard-to-read answers and missing plain-language versions. It works offline: links are
only checked for their form. ``online=True`` additionally sends one HEAD request per
http(s) link; it is off by default and never used in tests.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from pathlib import Path
from typing import Dict, List, Optional, Sequence, TextIO, Tuple

import yaml

from bot.kb.i18n import counted, ui
from bot.kb.links import find_links, reachable
from bot.kb.loader import TAG_PATTERN, ParsedEntry, kb_files, scan_kb
from bot.kb.messages import LANGS
from bot.kb.rules import Finding, check_entry, count, from_issue, severity_rank

TAGS_FILE = "_tags.yml"
OWNER_LINE = re.compile(r"^owner:[ \t]*(\S.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Overdue:
    """An entry whose review date has passed."""

    path: str
    review_by: date
    days: int
    owner: str


@dataclass
class CheckResult:
    """All findings for one kb.

    Attributes:
        findings: every finding, sorted by file, line and severity.
        files: how many kb files were checked.
        overdue: entries whose ``review_by`` has passed, most overdue first.
    """

    findings: List[Finding] = field(default_factory=list)
    files: int = 0
    overdue: List[Overdue] = field(default_factory=list)

    @property
    def errors(self) -> int:
        """Number of errors."""
        return count(self.findings, "error")

    @property
    def warnings(self) -> int:
        """Number of warnings."""
        return count(self.findings, "warning")

    @property
    def infos(self) -> int:
        """Number of notes."""
        return count(self.findings, "info")

    def exit_code(self, strict: bool = False) -> int:
        """1 with errors (or, when ``strict``, with warnings), else 0; notes never count."""
        return 1 if self.errors or (strict and self.warnings) else 0

    def summary(self, lang: str = "de") -> str:
        """The one-line result: errors, warnings and notes, in how many of how many files."""
        affected = len({f.path for f in self.findings if f.path and f.path != TAGS_FILE})
        return ui("summary", lang, errors=counted(self.errors, "error", lang),
                  warnings=counted(self.warnings, "warning", lang), infos=counted(self.infos, "info", lang),
                  affected=affected, files=counted(self.files, "file", lang))


def load_tag_vocabulary(kb_dir: Path) -> Tuple[Optional[List[str]], List[Finding]]:
    """The allowed tags from ``kb/_tags.yml`` (a list, or a mapping tag -> description).

    Returns:
        The tags (None when the file is missing or unreadable) and findings about the file.
    """
    path = kb_dir / TAGS_FILE
    if not path.is_file():
        return None, [Finding("info", TAGS_FILE, 0, None, "tags_file_missing", {"path": TAGS_FILE})]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(err, "problem", None) or type(err).__name__
        return None, [Finding("error", TAGS_FILE, line, None, "tags_file_invalid", {"problem": problem})]
    tags = list(data) if isinstance(data, (list, dict)) else None
    bad = [tag for tag in tags or [] if not isinstance(tag, str) or not TAG_PATTERN.match(tag)]
    if tags is None or bad:
        problem = f"{bad[0]!r}" if bad else "no list"
        return None, [Finding("error", TAGS_FILE, 1, None, "tags_file_invalid", {"problem": problem})]
    return [str(tag) for tag in tags], []


def check_kb(kb_dir: Path, today: Optional[date] = None, online: bool = False) -> CheckResult:
    """Run every check on a kb directory.

    Args:
        kb_dir: the kb directory.
        today: the reference date for overdue reviews (default: today).
        online: also send a HEAD request to every http(s) link (network access; off by default).

    Returns:
        The findings, sorted by file and line.
    """
    today = today or date.today()
    parsed, issues = scan_kb(kb_dir)
    findings = [_with_owner(from_issue(issue), kb_dir) for issue in issues]
    files = len(kb_files(kb_dir)) if kb_dir.is_dir() else 0
    known_tags, tag_findings = load_tag_vocabulary(kb_dir) if kb_dir.is_dir() else (None, [])
    findings += tag_findings
    for item in parsed:
        findings += check_entry(item, known_tags, today)
        if online:
            findings += _check_online(item)
    findings.sort(key=lambda f: (f.path, f.line, severity_rank(f.severity), f.code))
    overdue = [
        Overdue(f.path, f.params["date"], int(f.params["days"]), f.owner)
        for f in findings
        if f.code == "review_overdue"
    ]
    overdue.sort(key=lambda o: (-o.days, o.path))
    return CheckResult(findings, files, overdue)


def _with_owner(finding: Finding, kb_dir: Path) -> Finding:
    """Name the owner of a file the loader rejected, if its ``owner:`` line is readable."""
    if not finding.path:
        return finding
    try:
        match = OWNER_LINE.search((kb_dir / finding.path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return finding
    owner = match.group(1).strip().strip("\"'") if match else ""
    return dataclasses.replace(finding, owner=owner) if owner else finding


def _check_online(item: ParsedEntry) -> List[Finding]:
    found: List[Finding] = []
    urls = [(item.body_line + item.body[: link.offset].count("\n"), "answer", link.url)
            for link in find_links(item.body)]
    urls.append((item.lines.get("source", 2), "source", item.entry.source))
    for line, where, url in urls:
        status = reachable(url)
        if status:
            found.append(Finding("warning", item.entry.path, line, where, "link_unreachable",
                                 {"url": url, "status": status}, item.entry.owner))
    return found


def _display(kb_dir: Path, path: str) -> str:
    full = kb_dir / path if path else kb_dir
    try:
        return str(full.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(full)


def format_finding(finding: Finding, kb_dir: Path, lang: str = "de") -> str:
    """One report line: ``file:line: Severity [code] message → next step (Owner: ...)``."""
    text = f"{_display(kb_dir, finding.path)}:{finding.line}: {ui(finding.severity, lang)} [{finding.code}] "
    text += finding.message(lang)
    hint = finding.hint(lang)
    if hint:
        text += f" → {hint}"
    if finding.owner:
        text += f" ({ui('owner', lang)}: {finding.owner})"
    return text


def format_report(result: CheckResult, kb_dir: Path, lang: str = "de") -> List[str]:
    """The whole report: findings grouped by file (blank line between files), then the summary."""
    lines: List[str] = []
    for _, group in groupby(result.findings, key=lambda f: f.path):
        lines += [format_finding(finding, kb_dir, lang) for finding in group]
        lines.append("")
    lines.append(result.summary(lang))
    if result.overdue:
        lines.append(ui("overdue_head", lang))
        lines += [ui("overdue_line", lang, path=_display(kb_dir, o.path), days=o.days, date=o.review_by,
                     owner=o.owner or "?") for o in result.overdue]
    else:
        lines.append(ui("overdue_none", lang))
    return lines


def run_check(kb_dir: Path, lang: str = "de", today: Optional[date] = None, strict: bool = False,
              out: Optional[TextIO] = None, online: bool = False) -> int:
    """Check a kb and print the report; the entry point of ``auskunft kb check``.

    Runs offline unless ``online`` is set (then every http(s) link gets a HEAD request).

    Args:
        kb_dir: the kb directory.
        lang: language of the report, ``de`` or ``en``.
        today: the reference date for overdue reviews (default: today).
        strict: treat warnings like errors for the exit code.
        out: where to write the report (default: ``sys.stdout`` at call time).
        online: check that links answer (network access; off by default).

    Returns:
        The exit code: 0 without errors, 1 with errors (with ``strict``, also with warnings).
    """
    stream = out if out is not None else sys.stdout
    result = check_kb(kb_dir, today=today, online=online)
    for line in format_report(result, kb_dir, lang if lang in LANGS else "de"):
        print(line, file=stream)
    return result.exit_code(strict)


def summarize(findings: Sequence[Finding]) -> Dict[str, int]:
    """Findings per code, e.g. for a dashboard or a test."""
    totals: Dict[str, int] = {}
    for finding in findings:
        totals[finding.code] = totals.get(finding.code, 0) + 1
    return dict(sorted(totals.items()))
