"""What an import did, for the editor (text) and for scripts (JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List

from bot.editor.importing.planning import Plan, PlannedEntry
from bot.editor.importing.writer import WriteResult
from bot.kb.loader import MAX_ANSWER
from bot.kb.rules import CHAT_ANSWER_CHARS

REASONS = {
    "no_question": "no question",
    "empty_answer": "empty answer",
    "question_too_long": "question too long for a title",
    "duplicate_question": "duplicate question",
}
LISTED = 20  # the text report lists this many files per group, the JSON report all


@dataclass
class ImportReport:
    """The outcome of one import.

    Attributes:
        source: the file or folder read.
        kind: what it was ("HTML page", "CSV file", ...).
        method: how the questions were found.
        out_dir: the kb directory written to.
        dry_run: nothing was written.
        found: how many items the source held.
        plan: the entries and what was skipped or merged.
        written: what happened to each file.
        notes: remarks about the source as a whole.
        seconds: wall time of the import (reading, converting, writing, validating).
        kb_problems: problems ``load_kb`` finds in the output directory afterwards ([]: valid).
    """

    source: str
    kind: str
    method: str
    out_dir: str
    dry_run: bool
    found: int
    plan: Plan
    written: WriteResult
    notes: List[str] = field(default_factory=list)
    seconds: float = 0.0
    kb_problems: List[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """1 when edited files were kept (the kb does not have the source's version of them), else 0."""
        return 1 if self.written.kept else 0

    def to_dict(self) -> Dict[str, Any]:
        """Everything as JSON-ready data."""
        entries = self.plan.entries
        return {
            "source": self.source, "kind": self.kind, "method": self.method, "out_dir": self.out_dir,
            "dry_run": self.dry_run, "found": self.found, "seconds": round(self.seconds, 3),
            "imported": [_entry(entry) for entry in entries if not entry.overlong],
            "held_back_overlong": [_entry(entry) for entry in entries if entry.overlong],
            "long_answers": [_entry(entry) for entry in entries if entry.long and not entry.overlong],
            "merged": [{"where": m.where, "question": m.question, "id": m.entry_id} for m in self.plan.merged],
            "skipped": [{"where": s.where, "question": s.question, "reason": s.reason, "detail": s.detail}
                        for s in self.plan.skipped],
            "files": {"created": self.written.created, "updated": self.written.updated,
                      "unchanged": self.written.unchanged, "overwritten": self.written.overwritten,
                      "kept_edited": self.written.kept, "no_longer_in_source": self.written.stale},
            "notes": self.notes, "kb_problems": self.kb_problems,
        }

    def to_text(self) -> str:
        """The report for a person reading the terminal."""
        entries, written = self.plan.entries, self.written
        out = [f"Read {self.found} items from {self.source} ({self.kind}; {self.method}) in {self.seconds:.2f} s."]
        verb = "Would write" if self.dry_run else "Wrote"
        out.append(f"{verb} into {self.out_dir}: {len(written.created)} new, {len(written.updated)} updated, "
                   f"{len(written.overwritten)} overwritten (--force), {len(written.unchanged)} unchanged, "
                   f"{len(written.kept)} kept as edited." + (" Dry run: nothing was written." if self.dry_run else ""))
        titles = {entry.relative_path: entry.title for entry in entries}
        for label, paths in (("new", written.created), ("updated", written.updated),
                             ("overwritten", written.overwritten)):
            out += _listing(f"  {label:<11} ", [f"{path}  {titles.get(path, '')!r}" for path in paths])
        held = [entry for entry in entries if entry.overlong]
        if held:
            out.append(f"Held back, answer over {MAX_ANSWER} characters (not cut: shorten it, then move the file "
                       "out of _overlong/ into the kb):")
            out += _listing("  ", [f"{e.relative_path}  {len(e.answer)} characters  {e.title!r}" for e in held])
        long = [entry for entry in entries if entry.long and not entry.overlong]
        if long:
            out.append(f"Long answers, over {CHAT_ANSWER_CHARS} characters ('kb check' warns; consider shortening):")
            out += _listing("  ", [f"{e.relative_path}  {len(e.answer)} characters" for e in long])
        if self.plan.merged:
            out.append("Merged (same answer as an earlier entry: the question became a further phrasing):")
            out += _listing("  ", [f"{m.where} {m.question!r} -> {m.entry_id}" for m in self.plan.merged])
        if self.plan.skipped:
            out.append(f"Skipped ({len(self.plan.skipped)}):")
            out += _listing("  ", [_skip_line(s.where, s.question, s.reason, s.detail) for s in self.plan.skipped])
        if written.kept:
            out.append("Kept as edited (changed since the last import; --force overwrites them with the source):")
            out += _listing("  ", written.kept)
        if written.stale:
            out.append("No longer in the source (left in place; delete them if the page dropped the question):")
            out += _listing("  ", written.stale)
        for note in self.notes:
            out.append(f"Note: {note}")
        if self.kb_problems:
            out.append(f"'kb validate' finds {len(self.kb_problems)} problem(s) in {self.out_dir} (not in imported "
                       "files, which were checked before writing):")
            out += _listing("  ", self.kb_problems)
        if not self.dry_run and (written.created or written.updated or written.overwritten):
            out.append(f"Next: auskunft kb check --kb {self.out_dir}   (then 'auskunft kb build', or let the running "
                       "bot pick the files up)")
        return "\n".join(out)


def _entry(entry: PlannedEntry) -> Dict[str, Any]:
    return {"id": entry.id, "file": entry.relative_path, "title": entry.title, "lang": entry.lang,
            "source": entry.source, "answer_chars": len(entry.answer), "phrasings": entry.questions,
            "where": entry.where}


def _skip_line(where: str, question: str, reason: str, detail: str) -> str:
    asked = f" {question!r}" if question else ""
    extra = f" ({detail})" if detail else ""
    return f"{where}{asked}: {REASONS.get(reason, reason)}{extra}"


def _listing(prefix: str, lines: List[str]) -> List[str]:
    shown = [prefix + line for line in lines[:LISTED]]
    if len(lines) > LISTED:
        shown.append(f"{prefix}... and {len(lines) - LISTED} more (--json lists all)")
    return shown
