"""Read and write one kb entry file for the editor's form: find it, fingerprint it, save it without lost updates.

The form carries the SHA-256 of the file's bytes as they were when the form was opened. :func:`save_entry` writes
only if the file still has exactly those bytes (a new entry: if there is no file yet), atomically (a hidden
temporary file beside it, then a rename, so the kb watcher never sees half a file), and commits it with the editor
as author and committer when the kb is in a git repository. If the commit fails, the old bytes are put back.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

from bot.errors import AuskunftError
from bot.kb.entry import FaqEntry
from bot.kb.loader import scan_kb

Commit = Callable[[Path], Optional[str]]  # commits the file; returns the commit id (None: not in git)
_WRITING = threading.Lock()  # one save at a time in this process: the hash check and the write belong together


class EntryConflict(AuskunftError, ValueError):
    """The file changed on disk since the form was opened (or a new entry's file exists); nothing was written."""


class EntrySaveError(AuskunftError, OSError):
    """The file could not be written or committed; it is as it was. The message (German) says why."""


@dataclass(frozen=True)
class Located:
    """Where an entry lives: its layer directory, its file and the entry as loaded."""

    layer: Path
    path: Path
    entry: FaqEntry


@dataclass(frozen=True)
class Saved:
    """What :func:`save_entry` did: the new content hash and the commit (None outside git)."""

    content_hash: str
    commit: Optional[str]
    created: bool


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes; ``""`` when there is no file."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return ""


def locate(layers: Sequence[Path], faq_id: str) -> Optional[Located]:
    """The file holding the live version of ``faq_id``: the last layer that has a valid entry with that id.

    Invalid files elsewhere in the kb do not matter (each file is read on its own).
    """
    for layer in reversed(list(layers)):
        entries, _ = scan_kb(layer) if layer.is_dir() else ([], [])
        for item in entries:
            if item.entry.id == faq_id:
                return Located(layer, layer / item.entry.path, item.entry)
    return None


def entries_of(layers: Sequence[Path]) -> List[Tuple[FaqEntry, int]]:
    """Every valid entry of the layers with its layer's index, a later layer's entry replacing an earlier one."""
    merged = {}
    for index, layer in enumerate(layers):
        for item in scan_kb(layer)[0] if layer.is_dir() else []:
            merged[item.entry.id] = (item.entry, index)
    return sorted(merged.values(), key=lambda pair: (pair[0].path, pair[0].id))


def folders_of(layer: Path) -> List[str]:
    """The topic folders of a layer (sub-directories that do not start with ``_`` or ``.``)."""
    if not layer.is_dir():
        return []
    return sorted(p.name for p in layer.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def save_entry(path: Path, text: str, expected_hash: str, commit: Optional[Commit] = None) -> Saved:
    """Write ``text`` to ``path`` if the file is unchanged since it was read, then ``commit`` it.

    Args:
        path: the kb file (a new one for a new entry).
        text: the whole file, already checked (see :mod:`bot.editor.entry_check`).
        expected_hash: :func:`file_hash` of the file when the form was opened; ``""`` for a new entry.
        commit: records the written file, e.g. in git with the editor as author
            (:func:`bot.suggestions.git_commit.commit_file`); it raises an :class:`~bot.errors.AuskunftError` or
            ``OSError`` when it cannot. None: the file alone is the record.

    Returns:
        The new hash and the commit id (None if the kb is not in a git repository).

    Raises:
        EntryConflict: the file's bytes differ from ``expected_hash`` (or a new entry's file exists already).
        EntrySaveError: writing or committing failed; the file is as it was.
    """
    data = text.encode("utf-8")
    with _WRITING:
        current = file_hash(path)
        if current != expected_hash:
            if not expected_hash:
                raise EntryConflict(f"Es gibt schon eine Datei {path.name} in diesem Ordner; nichts wurde gespeichert. "
                                    "Wählen Sie eine andere id oder bearbeiten Sie den vorhandenen Eintrag.")
            raise EntryConflict("Die Datei wurde geändert, seit Sie das Formular geöffnet haben (von jemand anderem "
                                "oder direkt in der Datei). Ihre Änderungen wurden nicht gespeichert. Laden Sie die "
                                "aktuelle Fassung und tragen Sie Ihre Änderungen dort erneut ein.")
        before = path.read_bytes() if current else None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _replace(path, data)
        except OSError as err:
            raise EntrySaveError(f"Die Datei konnte nicht geschrieben werden ({err.strerror or err}).") from None
        try:
            commit_id = commit(path) if commit is not None else None
        except (AuskunftError, OSError) as err:
            if before is None:
                path.unlink(missing_ok=True)
            else:
                _replace(path, before)
            raise EntrySaveError(f"Die Änderung wurde nicht gespeichert: {err}") from None
    return Saved(hashlib.sha256(data).hexdigest(), commit_id, before is None)


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to a hidden file beside ``path`` (the kb loader skips it), then rename it over ``path``."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
