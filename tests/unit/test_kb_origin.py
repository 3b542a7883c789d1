"""The kb's git commit is recorded with each index, so an answer can be traced to the text that was live."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot.publish.origin import kb_commit


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def test_commit_then_dirty_then_none_outside_git(tmp_path: Path) -> None:
    assert kb_commit(tmp_path) is None
    repo = tmp_path / "repo"
    (repo / "kb").mkdir(parents=True)
    (repo / "kb" / "a.md").write_text("eins\n", encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "kb")
    head = git(repo, "rev-parse", "--short=12", "HEAD")
    assert kb_commit(repo / "kb") == head
    (repo / "kb" / "a.md").write_text("zwei\n", encoding="utf-8")
    assert kb_commit(repo / "kb") == f"{head}+dirty"
    (repo / "elsewhere.txt").write_text("x", encoding="utf-8")  # changes outside kb/ do not count
    git(repo, "checkout", "-q", "--", "kb")
    assert kb_commit(repo / "kb") == head
