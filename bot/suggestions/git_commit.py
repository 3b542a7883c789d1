"""Commit one changed kb file in the git repository that holds it, with the editor as author and committer."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Optional, Tuple

from bot.editor.kb_source import GIT_TIMEOUT_S, KbSourceError, repo_location

EMAIL_DOMAIN = "auskunft.invalid"


class KbCommitError(KbSourceError):
    """Git refused the commit; the message says what git said."""


def editor_identity(username: str, display_name: str, email: Optional[str] = None) -> tuple[str, str]:
    """The name and e-mail a commit by this editor carries (``<user>@auskunft.invalid`` without an address)."""
    return (display_name or username).strip() or username, (email or f"{username}@{EMAIL_DOMAIN}").strip()


def commit_file(path: Path, message: str, name: str, email: str,
                committer: Optional[Tuple[str, str]] = None) -> Optional[str]:
    """Stage and commit only ``path`` (other staged or changed files are left alone).

    Args:
        path: the changed file.
        message: the commit message.
        name: author name (and committer name unless ``committer`` is given).
        email: author e-mail (likewise).
        committer: name and e-mail of someone else who commits the author's change (the editor who approved a
            draft of the review queue).

    Returns:
        The new commit's id, or None if ``path`` is in no git repository.

    Raises:
        KbCommitError: git failed (e.g. a hook refused); the message quotes git.
    """
    try:
        repo, _prefix = repo_location(path.parent)
    except KbSourceError:
        return None  # git missing, or the kb is no repository: the file change alone is the record
    by_name, by_email = committer or (name, email)
    env = {**os.environ, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": by_name,
           "GIT_COMMITTER_EMAIL": by_email}
    relative = str(path.resolve().relative_to(repo.resolve()))
    for args in (["add", "--", relative], ["commit", "--quiet", "-m", message, "--", relative]):
        done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, timeout=GIT_TIMEOUT_S,
                              check=False)
        if done.returncode != 0:
            said = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
            raise KbCommitError(f"git {args[0]} ist fehlgeschlagen: {said[-1] if said else done.returncode}")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, timeout=GIT_TIMEOUT_S,
                          check=False)
    return head.stdout.decode("ascii").strip() or None
