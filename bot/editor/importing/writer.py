"""Write planned entries as kb files, all or nothing, without overwriting an editor's work.

Every file is first written to a hidden staging directory and validated with the kb loader; only when all
are valid are they moved into the kb (a failure while moving puts back what was there). A file already in
the kb is left alone when it already says what the import would write (``updated`` aside), updated when it
is exactly what the last import wrote (the source changed, nobody edited it: ``_imported.json`` keeps the
hash of every file the importer wrote), and otherwise kept as the editor left it unless ``force`` is set.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from bot.editor.importing.errors import FaqImportError
from bot.editor.importing.planning import OVERLONG_DIR, PlannedEntry
from bot.kb.errors import KbValidationError
from bot.kb.loader import parse_entry

MANIFEST = "_imported.json"
_UPDATED = re.compile(r"^updated:\s*(\d{4}-\d{2}-\d{2})\s*$", re.MULTILINE)


@dataclass
class WriteResult:
    """What happened to each planned file (paths relative to the output directory)."""

    created: List[str] = field(default_factory=list)
    updated: List[str] = field(default_factory=list)
    unchanged: List[str] = field(default_factory=list)
    overwritten: List[str] = field(default_factory=list)
    kept: List[str] = field(default_factory=list)
    stale: List[str] = field(default_factory=list)


def render_entry(entry: PlannedEntry, updated: date) -> str:
    """The kb file for ``entry``: YAML front matter in the sample kb's layout, then the answer."""
    lines = ["---", f"id: {entry.id}", f"title: {_scalar(entry.title)}"]
    if entry.questions:
        lines.append("questions:")
        lines.extend(f"  - {_scalar(question)}" for question in entry.questions)
    lines.append(f"lang: {entry.lang}")
    if entry.tags:
        lines.append(f"tags: [{', '.join(_scalar(tag) for tag in entry.tags)}]")
    lines += [f"source: {_scalar(entry.source)}", f"owner: {_scalar(entry.owner)}", f"updated: {updated.isoformat()}",
              "---", entry.answer.strip(), ""]
    return "\n".join(lines)


def _scalar(value: str) -> str:
    """``value`` as a one-line YAML scalar (quoted where YAML needs it)."""
    dumped = yaml.safe_dump(value, allow_unicode=True, width=1_000_000, default_style=None)
    return dumped[:-5] if dumped.endswith("\n...\n") else dumped.rstrip("\n")


def write_entries(entries: List[PlannedEntry], out_dir: Path, today: date, force: bool, dry_run: bool) -> WriteResult:
    """Write ``entries`` into ``out_dir`` (nothing at all with ``dry_run``).

    Raises:
        FaqImportError: a file could not be written or moved, or a written file does not validate; the kb is
            as it was.
    """
    manifest = _read_manifest(out_dir)
    result = WriteResult()
    to_write: List[Tuple[str, str]] = []
    for entry in entries:
        relative = entry.relative_path
        target = out_dir / relative
        text = render_entry(entry, today)
        if target.exists() or target.is_symlink():
            if not target.is_file() or target.is_symlink():
                raise FaqImportError(f"{target} exists and is not a plain file; move it away and import again")
            current = target.read_bytes()
            kept_date = _updated_of(current) or today
            if current == render_entry(entry, kept_date).encode("utf-8"):
                result.unchanged.append(relative)
                continue
            if manifest.get(relative) == _sha256(current):
                result.updated.append(relative)
            elif force:
                result.overwritten.append(relative)
            else:
                result.kept.append(relative)
                continue
        else:
            result.created.append(relative)
        to_write.append((relative, text))
    written = {relative for relative, _ in to_write} | set(result.unchanged) | set(result.kept)
    result.stale = sorted(path for path in manifest if path not in written and (out_dir / path).is_file())
    _stage_and_move(to_write, out_dir, dry_run)
    if not dry_run and to_write:
        manifest.update({relative: _sha256(text.encode("utf-8")) for relative, text in to_write})
        _write_manifest(out_dir, manifest)
    return result


def _stage_and_move(files: List[Tuple[str, str]], out_dir: Path, dry_run: bool) -> None:
    anchor = None if dry_run else _existing_ancestor(out_dir)
    try:
        stage = Path(tempfile.mkdtemp(prefix=".kb-import-", dir=anchor))
    except OSError as err:
        raise FaqImportError(f"cannot write next to {out_dir} ({err}); check the directory's permissions") from None
    try:
        staged = _stage(files, stage)
        if not dry_run:
            _move(staged, stage, out_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _stage(files: List[Tuple[str, str]], stage: Path) -> List[str]:
    root = stage / "kb"
    problems: List[str] = []
    for relative, text in files:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        try:
            parse_entry(path, root)
        except KbValidationError as err:
            allowed = relative.startswith(OVERLONG_DIR + "/")  # held back for its length; everything else must be valid
            problems += [str(issue) for issue in err.issues if not (allowed and issue.code == "answer_over_limit")]
    if problems:
        raise FaqImportError("the import produced entries the kb would reject (nothing was written):\n  "
                             + "\n  ".join(problems[:20]))
    return [relative for relative, _ in files]


def _move(relatives: List[str], stage: Path, out_dir: Path) -> None:
    backups = stage / "backup"
    done: List[Tuple[Path, Optional[Path]]] = []
    try:
        for relative in relatives:
            target = out_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            backup: Optional[Path] = None
            if target.exists():
                backup = backups / relative
                backup.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(target, backup)
            os.replace(stage / "kb" / relative, target)
            done.append((target, backup))
    except OSError as err:
        for target, backup in reversed(done):
            if backup is not None:
                os.replace(backup, target)
            else:
                target.unlink(missing_ok=True)
        raise FaqImportError(f"writing into {out_dir} failed ({err}); nothing was changed. Check free space and "
                             "permissions, then import again") from None


def _existing_ancestor(path: Path) -> Path:
    current = path.resolve()
    while not current.exists():
        current = current.parent
    if not current.is_dir():
        raise FaqImportError(f"{current} is a file, not a directory; choose another --out")
    return current


def _updated_of(raw: bytes) -> Optional[date]:
    match = _UPDATED.search(raw.decode("utf-8", errors="replace"))
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_manifest(out_dir: Path) -> Dict[str, str]:
    path = out_dir / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files", {}) if isinstance(data, dict) else {}
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def _write_manifest(out_dir: Path, files: Dict[str, str]) -> None:
    data = {"note": "written by 'auskunft kb import': the hash of each file as imported, so a re-import "
                    "updates only files nobody has edited since", "files": dict(sorted(files.items()))}
    temporary = out_dir / f".{MANIFEST}.tmp"
    temporary.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, out_dir / MANIFEST)
