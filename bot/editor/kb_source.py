"""A kb as it is in a directory or as it was at a git ref (``HEAD``, ``main~1``, a commit), for ``auskunft kb diff``.

A git ref is exported with ``git archive <ref>:<kb path>`` into a temporary directory (no shell, no checkout: the
working tree and the index of the repository stay untouched), loaded and validated like ``kb/``, and deleted again.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import List, Optional

from bot.errors import AuskunftError
from bot.kb.loader import KnowledgeBase, load_kb

GIT_TIMEOUT_S = 60


class KbSourceError(AuskunftError, ValueError):
    """The kb could not be read from the given directory or git ref; the message says why, in German."""


def _git(args: List[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run ``git <args>`` in ``cwd`` without a shell; raises :class:`KbSourceError` if git is not installed."""
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise KbSourceError("Git ist nicht installiert: eine Git-Referenz kann nicht gelesen werden.") from None
    except subprocess.TimeoutExpired:
        raise KbSourceError(f"git {args[0]} hat nach {GIT_TIMEOUT_S} s nicht geantwortet.") from None


def _message(result: subprocess.CompletedProcess[bytes]) -> str:
    """The last line git wrote to stderr."""
    lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else f"git exit {result.returncode}"


def repo_location(kb_dir: Path) -> tuple[Path, str]:
    """The git repository holding ``kb_dir`` and the kb's path inside it (``""`` for the repository root).

    Raises:
        KbSourceError: ``kb_dir`` does not exist or is not inside a git repository.
    """
    if not kb_dir.is_dir():
        raise KbSourceError(f"kb-Verzeichnis {kb_dir} nicht gefunden.")
    found = _git(["rev-parse", "--show-toplevel", "--show-prefix"], kb_dir.resolve())
    if found.returncode != 0:
        raise KbSourceError(f"{kb_dir} liegt in keinem Git-Repository: Git-Referenzen sind dort nicht verfügbar "
                            f"({_message(found)}).")
    top, _, prefix = found.stdout.decode("utf-8").partition("\n")
    return Path(top.strip()), prefix.strip().rstrip("/")


def resolve_commit(ref: str, repo: Path) -> str:
    """The commit ``ref`` names in ``repo``.

    Raises:
        KbSourceError: "Unbekannte Git-Referenz …": ``ref`` names no commit (or looks like an option).
    """
    if not ref.strip() or ref.startswith("-"):
        raise KbSourceError(f"Unbekannte Git-Referenz „{ref}“ (erwartet z. B. HEAD, main~1 oder eine Commit-ID).")
    found = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], repo)
    if found.returncode != 0:
        raise KbSourceError(f"Unbekannte Git-Referenz „{ref}“ in {repo}, und kein Verzeichnis dieses Namens "
                            "(erwartet z. B. HEAD, main~1 oder eine Commit-ID; 'git log --oneline' zeigt die Commits).")
    return found.stdout.decode("ascii").strip()


def export_kb(ref: str, kb_dir: Path, target: Path) -> str:
    """Write the files of the kb directory as they were at ``ref`` into ``target``.

    Args:
        ref: a git ref or commit.
        kb_dir: the kb directory in the working tree; its path inside the repository is exported.
        target: an existing, empty directory.

    Returns:
        The commit id ``ref`` resolved to.

    Raises:
        KbSourceError: no repository, unknown ref, or the kb directory did not exist at that commit.
    """
    repo, prefix = repo_location(kb_dir)
    commit = resolve_commit(ref, repo)
    tree = f"{commit}:{prefix}" if prefix else f"{commit}:"
    archive = _git(["archive", "--format=tar", tree], repo)
    if archive.returncode != 0:
        raise KbSourceError(f"Das kb-Verzeichnis „{prefix or '.'}“ gab es in Git-Referenz „{ref}“ ({commit[:10]}) "
                            f"noch nicht ({_message(archive)}).")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout), mode="r:") as tar:
        tar.extractall(target, filter="data")  # refuses links and paths that leave target
    return commit


def load_kb_at(ref_or_dir: str, kb_dir: Path, commit_out: Optional[List[str]] = None) -> KnowledgeBase:
    """Load a kb from a directory, or as it was at a git ref.

    Args:
        ref_or_dir: an existing directory (loaded as is), else a git ref such as ``HEAD``, ``main~1`` or a commit.
        kb_dir: the kb directory in the working tree (its repository and path are used for a git ref).
        commit_out: if given, the resolved commit id is appended to it (nothing for a directory).

    Returns:
        The validated knowledge base; entry paths are relative to the kb directory, as for ``kb/``.

    Raises:
        KbSourceError: unknown ref ("Unbekannte Git-Referenz …"), no repository, kb missing at that ref.
        KbValidationError: the kb at that ref or in that directory is invalid.
    """
    directory = Path(ref_or_dir).expanduser()
    if ref_or_dir.strip() and directory.is_dir():
        return load_kb(directory)
    with tempfile.TemporaryDirectory(prefix="auskunft-kb-ref-") as tmp:
        commit = export_kb(ref_or_dir, kb_dir, Path(tmp))
        if commit_out is not None:
            commit_out.append(commit)
        return load_kb(Path(tmp))
