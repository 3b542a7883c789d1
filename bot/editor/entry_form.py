"""A kb entry as the editor's browser form holds it, and the markdown file written from it.

Every front-matter field of :mod:`bot.kb.loader` is one form field, as text: lists (``questions``, ``tests``) one
item per line, ``tags`` separated by commas or blanks, dates as ``YYYY-MM-DD``. :func:`entry_text` writes the kb
file (front matter in the order of ``docs/kb-format.md``, then the answer); the form's values are not judged here:
whatever the editor typed goes into the file as YAML text and the kb loader decides (see
:mod:`bot.editor.entry_check`), so the browser gets the same messages as a file edited by hand.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Dict, List, Optional

import yaml

from bot.kb.entry import FaqEntry
from bot.kb.loader import TAG_PATTERN

FOLDER = re.compile(r"^[a-z0-9äöüß][a-z0-9äöüß_-]{0,59}$")
MAX_FIELD = 6000  # characters per form field: the loader's limits (3,000 for answers) are the real ones


@dataclass(frozen=True)
class EntryForm:
    """The form's fields, each as the editor typed it.

    Attributes:
        id: the entry's id (also the file name); fixed once the entry exists.
        title: the canonical question.
        questions: further phrasings, one per line.
        lang: ``de`` or ``en``.
        tags: lowercase keywords, separated by commas or blanks.
        source: the official page's URL.
        owner: the responsible department.
        updated: the date of the last content check (``YYYY-MM-DD``).
        review_by: the review date (``YYYY-MM-DD``) or empty.
        plain: the plain-language version or empty.
        tests: test questions, one per line.
        answer: the answer in markdown.
        folder: the topic folder the file is in (``abfall``); empty: the kb's top folder.
    """

    id: str = ""
    title: str = ""
    questions: str = ""
    lang: str = "de"
    tags: str = ""
    source: str = ""
    owner: str = ""
    updated: str = ""
    review_by: str = ""
    plain: str = ""
    tests: str = ""
    answer: str = ""
    folder: str = ""

    @classmethod
    def blank(cls, today: date, folder: str = "") -> "EntryForm":
        """An empty form for a new entry, dated today."""
        return cls(updated=today.isoformat(), folder=folder)

    @classmethod
    def of_entry(cls, entry: FaqEntry) -> "EntryForm":
        """The form showing an existing entry (its folder from its path)."""
        folder, _, _ = entry.path.rpartition("/")
        return cls(id=entry.id, title=entry.title, questions="\n".join(entry.questions), lang=entry.lang,
                   tags=", ".join(entry.tags), source=entry.source, owner=entry.owner,
                   updated=entry.updated.isoformat(), review_by=entry.review_by.isoformat() if entry.review_by else "",
                   plain=entry.plain or "", tests="\n".join(entry.tests), answer=entry.answer, folder=folder)

    @classmethod
    def of_values(cls, values: Dict[str, str]) -> "EntryForm":
        """A form from submitted values (missing ones empty; line breaks normalised to LF)."""
        names = [f.name for f in fields(cls)]
        return cls(**{name: _lines(values.get(name) or "") for name in names})

    def question_list(self) -> List[str]:
        """The phrasings, one per non-empty line."""
        return _items(self.questions)

    def test_list(self) -> List[str]:
        """The test questions, one per non-empty line."""
        return _items(self.tests)

    def tag_list(self) -> List[str]:
        """The tags, split at commas and blanks."""
        return [tag for tag in re.split(r"[\s,;]+", self.tags.strip()) if tag]

    def with_question(self, question: str) -> "EntryForm":
        """The form with ``question`` added as the last phrasing (unchanged if the entry says it already)."""
        wanted = " ".join(question.split())
        known = {" ".join(q.split()).casefold() for q in (self.title, *self.question_list())}
        if not wanted or wanted.casefold() in known:
            return self
        return replace(self, questions="\n".join([*self.question_list(), wanted]))

    def relative_path(self) -> str:
        """The file's path in the kb layer: ``<folder>/<id>.md`` (``<id>.md`` without a folder)."""
        name = f"{self.id.strip()}.md"
        return f"{self.folder.strip()}/{name}" if self.folder.strip() else name


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _items(text: str) -> List[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def scalar(value: str) -> str:
    """``value`` as a YAML scalar on one line that reads back as exactly this text (plain if it can be)."""
    try:
        if value and yaml.safe_load(f"k: {value}") == {"k": value}:
            return value
    except yaml.YAMLError:
        pass
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def _date(value: str) -> str:
    """A date as typed: plain when it looks like one (YAML then reads a date), else quoted text for the loader."""
    value = value.strip()
    return value if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else scalar(value)


def _block(text: str) -> Optional[str]:
    """A multi-line text as a YAML literal block (``|``), or None if one would not read back the same."""
    lines = text.strip().split("\n")
    block = "|\n" + "".join(f"  {line}\n" if line.strip() else "\n" for line in lines)
    try:
        ok = yaml.safe_load(f"k: {block}") == {"k": "\n".join(line if line.strip() else "" for line in lines) + "\n"}
    except yaml.YAMLError:
        ok = False
    return block.rstrip("\n") if ok and not lines[0].startswith((" ", "\t")) else None


def entry_text(form: EntryForm) -> str:
    """The kb file for the form: YAML front matter in the documented order, then the answer.

    Empty optional fields are left out; an empty required field is written empty, so the loader names it.
    """
    out = ["---", f"id: {scalar(form.id.strip())}", f"title: {scalar(form.title.strip())}"]
    questions = form.question_list()
    if questions:
        out += ["questions:"] + [f"  - {scalar(q)}" for q in questions]
    out.append(f"lang: {scalar(form.lang.strip())}")
    tags = form.tag_list()
    if tags:
        out.append("tags: [" + ", ".join(t if TAG_PATTERN.match(t) else json.dumps(t, ensure_ascii=False)
                                         for t in tags) + "]")
    out += [f"source: {scalar(form.source.strip())}", f"owner: {scalar(form.owner.strip())}",
            f"updated: {_date(form.updated)}"]
    if form.review_by.strip():
        out.append(f"review_by: {_date(form.review_by)}")
    plain = form.plain.strip()
    if plain:
        out.append(f"plain: {_block(plain) or scalar(plain)}")
    tests = form.test_list()
    if tests:
        out += ["tests:"] + [f"  - {scalar(q)}" for q in tests]
    out.append("---")
    return "\n".join(out) + "\n" + form.answer.strip() + "\n"
