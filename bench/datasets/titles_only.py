"""Copy a kb with every entry's ``questions:`` removed: titles and answers only (issue 18's benchmark).

A real agency's FAQ has one question per answer and no paraphrases. This copy of a kb
shows how the bot does on such a kb: the front matter keeps every other field, the
bodies are unchanged, other files (``_tags.yml``, ...) are copied as they are.

    python bench/datasets/titles_only.py kb /tmp/sample-titles-only
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path
from typing import List

import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.kb.loader import kb_files, split_front_matter  # noqa: E402

_KEY = re.compile(r"^questions\s*:")
_TOP_LEVEL = re.compile(r"^[^\s#-]")


def strip_questions(front: str) -> tuple[str, bool]:
    """The front matter without its ``questions`` key (block or flow list); whether it had one.

    Raises:
        ValueError: the key could not be removed textually (the YAML is written in an unusual way).
    """
    lines = front.splitlines(keepends=True)
    kept: List[str] = []
    inside = found = False
    for line in lines:
        if _KEY.match(line):
            inside = found = True
            continue
        if inside and (not line.strip() or not _TOP_LEVEL.match(line)):
            continue  # the list's items (indented, or "- " at column 0), blank lines and comments inside it
        inside = False
        kept.append(line)
    stripped = "".join(kept)
    meta = yaml.safe_load(stripped) if stripped.strip() else {}
    if isinstance(meta, dict) and "questions" in meta:
        raise ValueError("could not remove 'questions' from the front matter; rewrite it as a block list")
    return stripped, found


def titles_only_copy(src: Path, dst: Path) -> int:
    """Copy the kb at ``src`` to ``dst`` with all ``questions:`` removed.

    Args:
        src: a kb directory.
        dst: where the copy goes; must not exist yet or be empty.

    Returns:
        How many entries lost their questions.

    Raises:
        FileNotFoundError: ``src`` is not a directory.
        FileExistsError: ``dst`` exists and is not empty (delete it first).
        bot.kb.loader.KbValidationError: a kb file has no closed front matter (run ``auskunft kb check``).
    """
    if not src.is_dir():
        raise FileNotFoundError(f"{src} is not a kb directory")
    if dst.exists() and any(dst.iterdir()):
        raise FileExistsError(f"{dst} exists and is not empty; delete it or choose another directory")
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
    changed = 0
    for path in kb_files(dst):
        text = path.read_text(encoding="utf-8")
        front, body, _ = split_front_matter(path.name, text)
        stripped, found = strip_questions(front)
        if found:
            path.write_text(f"---\n{stripped}---\n{body}", encoding="utf-8")
            changed += 1
    return changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="the kb directory")
    parser.add_argument("dst", type=Path, help="the new directory (must not exist or be empty)")
    args = parser.parse_args()
    print(f"{titles_only_copy(args.src, args.dst)} entries without questions in {args.dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
