"""Read and validate a kb directory of markdown files with YAML front matter.

Every problem is reported with file, line and field; a kb with any problem is
rejected as a whole, so a caller that keeps the last good kb keeps serving it.
Each problem also carries a ``code`` and ``params`` so ``auskunft kb check`` can
explain it in German or English (see :mod:`bot.kb.messages`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from bot.kb.entry import FaqEntry
from bot.kb.errors import KbIssue, KbValidationError

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
TAG_PATTERN = re.compile(r"^[a-z0-9äöüß][a-z0-9äöüß-]*$")
URL_PATTERN = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
LANGUAGES = ("de", "en")
REQUIRED = ("id", "title", "lang", "source", "owner", "updated")
KNOWN = set(REQUIRED) | {"questions", "tags", "review_by", "plain", "tests"}
MAX_TITLE = 200
MAX_ANSWER = 3000
MAX_PARSED = 50_000
_PARSED: Dict[Tuple[str, str], "ParsedEntry"] = {}  # (file name, sha256 of its bytes) -> the valid parse


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated set of entries and the hash of their content."""

    entries: Tuple[FaqEntry, ...]
    content_hash: str

    def by_id(self) -> Dict[str, FaqEntry]:
        """Entries keyed by id."""
        return {entry.id: entry for entry in self.entries}


@dataclass(frozen=True)
class ParsedEntry:
    """A valid entry with the positions an editor needs to find things in its file.

    Attributes:
        entry: the entry.
        lines: front-matter key -> 1-based line of the key.
        item_lines: list-valued key -> 1-based line of each item.
        body: the raw text after the front matter.
        body_line: the line on which ``body`` starts.
    """

    entry: FaqEntry
    lines: Dict[str, int] = field(default_factory=dict)
    item_lines: Dict[str, List[int]] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1


def kb_files(root: Path) -> List[Path]:
    """The markdown files of a kb, sorted; names starting with ``_`` or ``.`` are skipped."""
    return sorted(
        path
        for path in root.rglob("*.md")
        if not any(part.startswith(("_", ".")) for part in path.relative_to(root).parts)
    )


def scan_kb(root: Path) -> Tuple[List[ParsedEntry], List[KbIssue]]:
    """Parse every file under ``root`` without stopping at problems.

    Args:
        root: the kb directory.

    Returns:
        The valid entries (the first of each id) and every problem found.
    """
    if not root.is_dir():
        return [], [KbIssue(str(root), 0, None, "kb directory not found", "kb_missing")]
    issues: List[KbIssue] = []
    parsed: List[ParsedEntry] = []
    seen: Dict[str, FaqEntry] = {}
    for path in kb_files(root):
        try:
            item = parse_entry(path, root)
        except KbValidationError as err:
            issues.extend(err.issues)
            continue
        entry = item.entry
        if entry.id in seen:
            other = seen[entry.id]
            issues.append(KbIssue(entry.path, item.lines.get("id", 2), "id",
                                  f"duplicate id '{entry.id}', also used in {other.path}",
                                  "duplicate_id", {"id": entry.id, "other": other.path}))
            continue
        seen[entry.id] = entry
        parsed.append(item)
    if not parsed and not issues:
        issues.append(KbIssue(str(root), 0, None, "the kb has no entries (*.md files)", "kb_empty"))
    return parsed, issues


def load_kb(root: Path) -> KnowledgeBase:
    """Load and validate every entry under ``root``.

    Args:
        root: the kb directory.

    Returns:
        The knowledge base.

    Raises:
        KbValidationError: any file is invalid, or ids collide; lists every problem.
    """
    parsed, issues = scan_kb(root)
    if issues:
        raise KbValidationError(issues)
    digest = hashlib.sha256()
    for item in parsed:
        digest.update(item.entry.content_hash.encode("ascii"))
    return KnowledgeBase(tuple(item.entry for item in parsed), digest.hexdigest())


def load_entry(path: Path, root: Optional[Path] = None) -> FaqEntry:
    """Parse and validate one kb file.

    Args:
        path: the markdown file.
        root: the kb root, used to name the file relative to it in errors.

    Raises:
        KbValidationError: the file is invalid; lists every problem found.
    """
    return parse_entry(path, root).entry


def parse_entry(path: Path, root: Optional[Path] = None) -> ParsedEntry:
    """Parse and validate one kb file, keeping the line of each field.

    Args:
        path: the markdown file.
        root: the kb root, used to name the file relative to it in errors.

    Raises:
        KbValidationError: the file is invalid; lists every problem found.
    """
    name = str(path.relative_to(root)) if root else str(path)
    raw = path.read_bytes()
    key = (name, hashlib.sha256(raw).hexdigest())
    cached = _PARSED.get(key)
    if cached is not None:  # same name, same bytes: same result (the watcher re-reads every file on each change)
        return cached
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise KbValidationError([KbIssue(name, line, None, "file is not valid UTF-8", "not_utf8")]) from None
    front, body, body_line = split_front_matter(name, text)
    meta, lines, item_lines = _parse_yaml(name, front)
    issues = _validate(name, meta, lines, body, body_line)
    if issues:
        raise KbValidationError(issues)
    plain = meta.get("plain")
    entry = FaqEntry(
        id=meta["id"],
        title=meta["title"].strip(),
        questions=tuple(q.strip() for q in meta.get("questions") or ()),
        lang=meta["lang"],
        tags=tuple(meta.get("tags") or ()),
        source=meta["source"],
        owner=meta["owner"].strip(),
        updated=meta["updated"],
        review_by=meta.get("review_by"),
        answer=body.strip(),
        path=name,
        content_hash=key[1],
        plain=plain.strip() if isinstance(plain, str) else None,
        tests=tuple(q.strip() for q in meta.get("tests") or ()),
    )
    parsed = ParsedEntry(entry, lines, item_lines, body, body_line)
    if len(_PARSED) >= MAX_PARSED:
        _PARSED.clear()
    _PARSED[key] = parsed
    return parsed


def split_front_matter(name: str, text: str, closing: Tuple[str, ...] = ("---",)) -> Tuple[str, str, int]:
    """The YAML front matter of a kb file, the body after it and the body's first line number.

    Args:
        name: the file's name, for the error.
        text: the file's text.
        closing: the lines that close the front matter (kb files: ``---``; imported markdown also ``...``).

    Raises:
        KbValidationError: the text does not start with ``---`` or the front matter is not closed.
    """
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise KbValidationError([KbIssue(name, 1, None, "file must start with '---' (YAML front matter)",
                                         "no_front_matter")])
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in closing:
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    raise KbValidationError([KbIssue(name, 1, None, "front matter is not closed with a '---' line",
                                     "front_matter_open")])


def _parse_yaml(name: str, front: str) -> Tuple[Dict[str, Any], Dict[str, int], Dict[str, List[int]]]:
    try:
        node = yaml.compose(front, Loader=yaml.SafeLoader)
        meta = yaml.safe_load(front)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(err, "problem", None) or str(err)
        raise KbValidationError([KbIssue(name, line, None, f"invalid YAML: {problem}", "invalid_yaml",
                                         {"problem": problem})]) from None
    except ValueError as err:  # a value YAML recognises but cannot build, e.g. the date 2026-13-45
        problem = f"{err} (dates are written YYYY-MM-DD)"
        raise KbValidationError([KbIssue(name, 2, None, f"invalid YAML: {problem}", "invalid_yaml",
                                         {"problem": problem})]) from None
    except RecursionError:  # brackets nested thousands deep
        problem = "nested too deeply"
        raise KbValidationError([KbIssue(name, 2, None, f"invalid YAML: {problem}", "invalid_yaml",
                                         {"problem": problem})]) from None
    if not isinstance(meta, dict) or not isinstance(node, yaml.MappingNode):
        raise KbValidationError([KbIssue(name, 2, None, "front matter must be a mapping of 'key: value'",
                                         "front_matter_not_mapping")])
    lines = {str(key.value): key.start_mark.line + 2 for key, _ in node.value}
    item_lines = {
        str(key.value): [item.start_mark.line + 2 for item in value.value]
        for key, value in node.value
        if isinstance(value, yaml.SequenceNode)
    }
    return meta, lines, item_lines


def _validate(
    name: str, meta: Dict[str, Any], lines: Dict[str, int], body: str, body_line: int
) -> List[KbIssue]:
    issues: List[KbIssue] = []

    def problem(where: str, message: str, code: str, **params: Any) -> None:
        issues.append(KbIssue(name, lines.get(where, 2), where, message, code, params))

    for key in sorted(set(meta) - KNOWN, key=str):
        hint = ", ".join(sorted(KNOWN))
        problem(str(key), f"unknown field (allowed: {hint})", "unknown_field", key=key, allowed=hint)
    for key in REQUIRED:
        if meta.get(key) in (None, ""):
            issues.append(KbIssue(name, 2, key, "required field is missing or empty", "required_missing",
                                  {"key": key}))

    entry_id = meta.get("id")
    if entry_id not in (None, "") and (not isinstance(entry_id, str) or not ID_PATTERN.match(entry_id)):
        problem("id", f"'{entry_id}' is not a valid id (lowercase a-z, 0-9 and '-', 2-80 characters)",
                "invalid_id", value=entry_id)
    title = meta.get("title")
    if title not in (None, "") and (not isinstance(title, str) or len(title) > MAX_TITLE):
        problem("title", f"must be text of at most {MAX_TITLE} characters", "invalid_title", max=MAX_TITLE)
    lang = meta.get("lang")
    if lang not in (None, "") and lang not in LANGUAGES:
        problem("lang", f"must be one of {', '.join(LANGUAGES)} (got '{lang}')", "invalid_lang", value=lang)
    for key in ("source",):
        value = meta.get(key)
        if value not in (None, "") and (not isinstance(value, str) or not URL_PATTERN.match(value)):
            problem(key, f"'{value}' is not an http(s) URL", "invalid_source", value=value)
    owner = meta.get("owner")
    if owner not in (None, "") and not isinstance(owner, str):
        problem("owner", "must be text (the responsible department)", "invalid_owner")

    for key in ("questions", "tests"):
        value = meta.get(key)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(q, str) and q.strip() for q in value)
        ):
            problem(key, "must be a list of non-empty texts", "invalid_text_list", key=key)
    tags = meta.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(t, str) and TAG_PATTERN.match(t) for t in tags)
    ):
        problem("tags", "must be a list of lowercase words, e.g. [ausweis, meldewesen]", "invalid_tags")
    plain = meta.get("plain")
    if plain is not None and (not isinstance(plain, str) or not plain.strip() or len(plain.strip()) > MAX_ANSWER):
        problem("plain", f"must be non-empty text of at most {MAX_ANSWER} characters", "invalid_plain",
                max=MAX_ANSWER)

    for key in ("updated", "review_by"):
        value = meta.get(key)
        if value not in (None, "") and (not isinstance(value, date) or isinstance(value, datetime)):
            problem(key, f"'{value}' is not a date in the form YYYY-MM-DD", "invalid_date", key=key, value=value)
    updated, review_by = meta.get("updated"), meta.get("review_by")
    if (isinstance(updated, date) and isinstance(review_by, date) and not isinstance(updated, datetime)
            and not isinstance(review_by, datetime) and review_by < updated):
        problem("review_by", f"{review_by} is before 'updated' ({updated})", "review_before_updated",
                review_by=review_by, updated=updated)

    answer = body.strip()
    if not answer:
        issues.append(KbIssue(name, body_line, "answer", "the answer (text after the front matter) is empty",
                              "answer_empty"))
    elif len(answer) > MAX_ANSWER:
        issues.append(KbIssue(name, body_line, "answer", f"is {len(answer)} characters long (at most {MAX_ANSWER})",
                              "answer_over_limit", {"chars": len(answer), "max": MAX_ANSWER}))
    return issues
