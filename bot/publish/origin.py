"""Where the kb text came from: the git commit of the kb folder, so an answer can be traced to its text."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Optional


def kb_commit(kb_dir: Path) -> Optional[str]:
    """The commit the kb folder is at (``+dirty`` if its files differ from it); None outside git."""
    def git(*args: str) -> Optional[str]:
        try:
            done = subprocess.run(["git", "-C", str(kb_dir), *args], capture_output=True, text=True, timeout=10,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short=12", "HEAD")
    if not commit:
        return None
    changes = git("status", "--porcelain", "--", ".")
    return f"{commit}+dirty" if changes else commit
