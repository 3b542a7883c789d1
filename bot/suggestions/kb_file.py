"""Add a phrasing to the ``questions:`` list of one kb file, leaving every other byte of the file as it was.

The new item is written after the last item of a block list (with that list's indent), a flow list on one line
(``questions: [a, b]``) is rewritten as a block list, and a file without the key gains one before the closing
``---``. The result is parsed with the kb loader before it replaces the file; if it is invalid, or the entry's
questions are not exactly the old ones plus the new phrasing, the file is left as it was.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import yaml

from bot.errors import AuskunftError
from bot.kb.errors import KbValidationError
from bot.kb.loader import parse_entry, split_front_matter

MAX_PHRASING = 500
_KEY = re.compile(r"^questions[ \t]*:[ \t]*(.*?)[ \t]*(\r?\n)?$")
_TOP_LEVEL = re.compile(r"^[^\s#-]")  # a line starting a new top-level key (or the document's end)
_ITEM = re.compile(r"^([ \t]*-[ \t]+)")


class PhrasingError(AuskunftError, ValueError):
    """The phrasing cannot be added; the message (German) says why and what to do, and the file is unchanged."""


@dataclass(frozen=True)
class PhrasingEdit:
    """What :func:`add_phrasing` did.

    Attributes:
        added: True if the file gained the phrasing; False if the entry had it already (title or a question).
        phrasing: the phrasing as written (whitespace collapsed).
        entry_id: the id of the entry in the file.
    """

    added: bool
    phrasing: str
    entry_id: str


def normalise(text: str) -> str:
    """The phrasing with runs of whitespace (line breaks included) as one space, trimmed."""
    return " ".join((text or "").split())


def same_phrasing(a: str, b: str) -> bool:
    """Whether two phrasings are the same apart from case and whitespace."""
    return normalise(a).casefold() == normalise(b).casefold()


def yaml_item(phrasing: str) -> str:
    """The phrasing as a YAML list item's scalar: plain where YAML reads it back unchanged, else double-quoted."""
    try:
        if yaml.safe_load(f"- {phrasing}") == [phrasing]:
            return phrasing
    except yaml.YAMLError:
        pass
    return json.dumps(phrasing, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def _insert(front: List[str], item: str, newline: str) -> List[str]:
    """The front matter's lines with ``item`` appended to its ``questions:`` list."""
    for index, line in enumerate(front):
        found = _KEY.match(line)
        if not found:
            continue
        value = found.group(1)
        if value.startswith("["):  # a flow list on this line: rewrite the line as a block list
            try:
                items = yaml.safe_load(value) or []
            except yaml.YAMLError:
                raise PhrasingError("„questions:“ ist in dieser Datei kein gültiges YAML; bitte zuerst die Datei "
                                    "reparieren (auskunft kb check).") from None
            block = [f"questions:{newline}"] + [f"  - {yaml_item(str(q))}{newline}" for q in items]
            return front[:index] + block + [f"  - {item}{newline}"] + front[index + 1:]
        if value and not value.startswith("#"):
            raise PhrasingError("„questions:“ hat in dieser Datei eine unerwartete Form; bitte die Formulierung von "
                                "Hand ergänzen.")
        last = index
        for position in range(index + 1, len(front)):
            if _TOP_LEVEL.match(front[position]):
                break
            if front[position].strip() and not front[position].lstrip().startswith("#"):
                last = position
        first_item = next((found for t in front[index + 1:last + 1] if (found := _ITEM.match(t))), None)
        prefix = first_item.group(1) if first_item is not None else "  - "
        before = front[: last + 1]
        if before and not before[-1].endswith(("\n", "\r")):
            before[-1] += newline
        return before + [f"{prefix}{item}{newline}"] + front[last + 1:]
    tail = list(front)
    if tail and not tail[-1].endswith(("\n", "\r")):
        tail[-1] += newline
    return tail + [f"questions:{newline}", f"  - {item}{newline}"]


def edited_text(name: str, text: str, phrasing: str) -> str:
    """The file's text with ``phrasing`` added to its ``questions:``.

    Raises:
        PhrasingError: the file cannot be read as a kb file.
    """
    try:
        _front, _body, body_line = split_front_matter(name, text)
    except KbValidationError as err:
        raise PhrasingError(f"{name} ist keine gültige kb-Datei: {err.issues[0].message}.") from None
    lines = text.splitlines(keepends=True)
    front_lines = lines[1: body_line - 2]
    newline = "\r\n" if lines[0].endswith("\r\n") else "\n"
    changed = _insert(front_lines, yaml_item(phrasing), newline)
    return "".join(lines[:1] + changed + lines[body_line - 2:])


def add_phrasing(path: Path, phrasing: str, root: Optional[Path] = None) -> PhrasingEdit:
    """Add ``phrasing`` to the ``questions:`` of the kb file ``path`` (atomically; unchanged on any problem).

    Args:
        path: the kb file holding the entry.
        phrasing: the new phrasing (whitespace is collapsed).
        root: the kb layer's directory, to name the file in messages.

    Returns:
        What was done; ``added`` is False where the title or a question already says the same.

    Raises:
        PhrasingError: empty or overlong phrasing, the file is missing or invalid, or the edited file would be
            invalid (the message names the problem; the file is unchanged).
    """
    text_in = normalise(phrasing)
    name = str(path.relative_to(root)) if root else path.name
    if not text_in:
        raise PhrasingError("Die Formulierung ist leer.")
    if len(text_in) > MAX_PHRASING:
        raise PhrasingError(f"Die Formulierung ist länger als {MAX_PHRASING} Zeichen; bitte kürzen.")
    try:
        before = parse_entry(path, root).entry
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PhrasingError(f"Die Datei {name} gibt es nicht mehr.") from None
    except KbValidationError as err:
        raise PhrasingError(f"{name} ist schon jetzt ungültig ({err.issues[0]}); bitte zuerst reparieren.") from None
    if any(same_phrasing(text_in, known) for known in (before.title, *before.questions)):
        return PhrasingEdit(False, text_in, before.id)
    new_text = edited_text(name, raw.decode("utf-8"), text_in)
    with tempfile.TemporaryDirectory(prefix="auskunft-phrasing-") as tmp:
        trial = Path(tmp) / path.name
        trial.write_bytes(new_text.encode("utf-8"))
        try:
            after = parse_entry(trial, Path(tmp)).entry
        except KbValidationError as err:
            problem = "; ".join(f"Zeile {i.line}: {i.message}" for i in err.issues)
            raise PhrasingError(f"Mit der neuen Formulierung wäre {name} ungültig ({problem}); die Datei bleibt "
                                "unverändert.") from None
    if list(after.questions) != [*before.questions, text_in] or after.id != before.id:
        raise PhrasingError(f"Die Formulierung ließ sich in {name} nicht sicher einfügen; die Datei bleibt "
                            "unverändert. Bitte von Hand ergänzen.")
    _replace(path, new_text.encode("utf-8"))
    return PhrasingEdit(True, text_in, before.id)


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to a hidden file beside ``path`` (the kb loader skips it), then rename it over ``path``."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
