"""From what a source holds to the kb entries to write: ids, sources, languages, limits and duplicates.

Nothing is cut or invented. An entry without a question or answer, a question too long for a title and a
repeated question are skipped with the reason; a second question with the same answer as an earlier one
becomes a further phrasing of that entry; an answer over the loader's limit is held back (written under
``_overlong/``, which the loader ignores) for an editor to shorten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from bot.editor.importing.errors import FaqImportError
from bot.editor.importing.html_tree import clean_text
from bot.editor.importing.ids import given_id, id_from_question, unique
from bot.editor.importing.records import RawEntry, SourceDoc
from bot.editor.importing.urls import is_http_url
from bot.kb.loader import MAX_ANSWER, MAX_TITLE, TAG_PATTERN
from bot.kb.rules import CHAT_ANSWER_CHARS
from bot.retrieval.language import detect_language, normalise_language

OVERLONG_DIR = "_overlong"


@dataclass(frozen=True)
class ImportOptions:
    """What the editor asked for.

    Attributes:
        out_dir: the kb directory the entries go to.
        owner: the department responsible for the entries.
        lang: ``de`` or ``en`` for every entry; None: per entry from the source or detected.
        source_url: where the FAQ came from; used for entries without their own anchor.
        force: overwrite files edited since the last import.
        dry_run: write nothing, only report.
        today: the ``updated`` date of new entries.
    """

    out_dir: Path
    owner: str
    lang: Optional[str] = None
    source_url: Optional[str] = None
    force: bool = False
    dry_run: bool = False
    today: date = field(default_factory=date.today)


@dataclass
class PlannedEntry:
    """One kb file to write."""

    id: str
    title: str
    answer: str
    lang: str
    source: str
    owner: str
    where: str
    questions: List[str] = field(default_factory=list)
    tags: Tuple[str, ...] = ()

    @property
    def overlong(self) -> bool:
        """Over the loader's answer limit: held back under ``_overlong/``."""
        return len(self.answer) > MAX_ANSWER

    @property
    def long(self) -> bool:
        """Over the chat-bubble length ``kb check`` warns about."""
        return len(self.answer) > CHAT_ANSWER_CHARS

    @property
    def relative_path(self) -> str:
        """The file, relative to the output directory."""
        return f"{OVERLONG_DIR}/{self.id}.md" if self.overlong else f"{self.id}.md"


@dataclass(frozen=True)
class Skipped:
    """An item of the source that was not imported, and why (``reason`` is a stable code)."""

    where: str
    question: str
    reason: str
    detail: str


@dataclass(frozen=True)
class Merged:
    """A question whose answer equals an earlier entry's: it became a phrasing of that entry."""

    where: str
    question: str
    entry_id: str


@dataclass
class Plan:
    """The entries to write and what happened to the rest."""

    entries: List[PlannedEntry] = field(default_factory=list)
    skipped: List[Skipped] = field(default_factory=list)
    merged: List[Merged] = field(default_factory=list)


def plan_entries(source: SourceDoc, options: ImportOptions, taken_ids: Dict[str, str]) -> Plan:
    """Decide every entry of ``source``.

    Args:
        source: what the reader found.
        options: the editor's choices.
        taken_ids: ids already used in the output directory, with the file that uses each (relative path).

    Raises:
        FaqImportError: entries have no http(s) source URL and none was given.
    """
    plan = Plan()
    by_question: Dict[str, Tuple[PlannedEntry, str]] = {}
    by_answer: Dict[str, PlannedEntry] = {}
    used: Set[str] = set()
    default_source = options.source_url if is_http_url(options.source_url) else source.page_url
    fallback_lang = normalise_language(source.page_lang) if source.page_lang else "de"
    missing_source: List[str] = []
    for raw in source.entries:
        question = clean_text(raw.question)
        answer = raw.answer.strip()
        if not question:
            plan.skipped.append(Skipped(raw.where, "", "no_question", _preview(answer)))
            continue
        if len(question) > MAX_TITLE:
            plan.skipped.append(Skipped(raw.where, question, "question_too_long",
                                        f"{len(question)} characters, a title has at most {MAX_TITLE}"))
            continue
        if not answer:
            plan.skipped.append(Skipped(raw.where, question, "empty_answer", ""))
            continue
        key, answer_key = _normal(question) or question, _normal(answer) or answer
        if key in by_question:
            first, first_answer = by_question[key]
            same = "same answer" if first_answer == answer_key else "a different answer: check which is current"
            plan.skipped.append(Skipped(raw.where, question, "duplicate_question",
                                        f"same question as {first.where} ({first.id}), {same}"))
            continue
        if answer_key in by_answer:
            entry = by_answer[answer_key]
            entry.questions.append(question)
            by_question[key] = (entry, answer_key)
            plan.merged.append(Merged(raw.where, question, entry.id))
            continue
        entry_source = raw.anchor_url or (raw.source_url if is_http_url(raw.source_url) else None) or default_source
        if not entry_source:
            missing_source.append(raw.where)
            entry_source = ""
        entry_id = _entry_id(raw, question, used, taken_ids)
        used.add(entry_id)
        entry = PlannedEntry(
            id=entry_id, title=question, answer=answer, lang=_language(raw, question, answer, options, fallback_lang),
            source=entry_source, owner=options.owner, where=raw.where, questions=_phrasings(raw, question),
            tags=_tags(raw.tags),
        )
        plan.entries.append(entry)
        by_question[key] = (entry, answer_key)
        by_answer[answer_key] = entry
    if missing_source:
        raise FaqImportError(
            f"{len(missing_source)} entries have no source URL (first: {missing_source[0]}) and the source names "
            "none: pass --source-url URL (the address of the FAQ page), or map a column with --source-column")
    return plan


def _entry_id(raw: RawEntry, question: str, used: Set[str], taken_ids: Dict[str, str]) -> str:
    base = given_id(raw.entry_id or "") or id_from_question(question)
    for _ in range(10_000):
        candidate = unique(base, used)
        owner = taken_ids.get(candidate)
        if owner is None or owner in (f"{candidate}.md", f"{OVERLONG_DIR}/{candidate}.md"):
            return candidate  # free, or the file an earlier import wrote for this id
        used = used | {candidate}
    raise FaqImportError(f"no free id for {question!r}; choose another output directory")  # pragma: no cover


def _language(raw: RawEntry, question: str, answer: str, options: ImportOptions, fallback: str) -> str:
    if options.lang:
        return options.lang
    if raw.lang and normalise_language(raw.lang, "") in ("de", "en"):
        return normalise_language(raw.lang)
    return detect_language(f"{question}\n{answer[:600]}", fallback)


def _phrasings(raw: RawEntry, title: str) -> List[str]:
    seen = {_normal(title)}
    out: List[str] = []
    for text in raw.phrasings:
        phrasing = clean_text(text)
        if phrasing and len(phrasing) <= MAX_TITLE and _normal(phrasing) not in seen:
            seen.add(_normal(phrasing))
            out.append(phrasing)
    return out


def _tags(values: Tuple[str, ...]) -> Tuple[str, ...]:
    out: List[str] = []
    for value in values:
        tag = re.sub(r"[^a-z0-9äöüß-]+", "-", value.strip().lower()).strip("-")
        if tag and TAG_PATTERN.match(tag) and tag not in out:
            out.append(tag)
    return tuple(out)


def _normal(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _preview(text: str, length: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"
