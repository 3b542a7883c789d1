"""bench/datasets/titles_only.py: a kb copy with every ``questions:`` removed, all else kept."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.kb.loader import load_kb

ROOT = Path(__file__).resolve().parents[2]


def _module() -> Any:
    spec = importlib.util.spec_from_file_location("bench_titles_only", ROOT / "bench" / "datasets" / "titles_only.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_titles_only"] = module
    spec.loader.exec_module(module)
    return module


titles_only = _module()

ENTRY = """---
id: {id}
title: Wie melde ich {id} an?
{questions}lang: de
tags: [test]
source: https://example.org/{id}
owner: Amt
updated: 2026-01-01
---
Antwort zu {id}.

questions:
  - this line is body text and stays
"""


def _write(root: Path, name: str, questions: str) -> None:
    (root / f"{name}.md").write_text(ENTRY.format(id=name, questions=questions), encoding="utf-8")


def test_copy_removes_block_flow_and_column_zero_lists(tmp_path: Path) -> None:
    src, dst = tmp_path / "kb", tmp_path / "copy"
    (src / "sub").mkdir(parents=True)
    _write(src, "block", "questions:\n  - Erste Frage?\n  - Zweite Frage?\n")
    _write(src / "sub", "flow", "questions: [Eine Frage?, Noch eine?]\n")
    _write(src, "zero", "questions:\n- Frage am Rand?\n\n- Noch eine?\n")
    _write(src, "none", "")
    (src / "_tags.yml").write_text("test: Test\n", encoding="utf-8")

    assert titles_only.titles_only_copy(src, dst) == 3

    kb = load_kb(dst)
    assert sorted(e.id for e in kb.entries) == ["block", "flow", "none", "zero"]
    for entry in kb.entries:
        assert list(entry.phrasings) == [entry.title]
        assert "this line is body text and stays" in entry.answer
        assert entry.source == f"https://example.org/{entry.id}"
    assert (dst / "_tags.yml").read_text(encoding="utf-8") == "test: Test\n"
    assert "Erste Frage" in (src / "block.md").read_text(encoding="utf-8")  # the source is untouched


def test_sample_kb_keeps_every_entry(tmp_path: Path) -> None:
    original = load_kb(ROOT / "kb")
    changed = titles_only.titles_only_copy(ROOT / "kb", tmp_path / "kb")
    copy = load_kb(tmp_path / "kb")
    assert changed == sum(1 for e in original.entries if len(e.phrasings) > 1)
    assert [e.id for e in copy.entries] == [e.id for e in original.entries]
    assert all(len(e.phrasings) == 1 for e in copy.entries)


def test_refuses_a_non_empty_destination_and_a_missing_source(tmp_path: Path) -> None:
    (tmp_path / "dst").mkdir()
    (tmp_path / "dst" / "x.md").write_text("x", encoding="utf-8")
    (tmp_path / "src").mkdir()
    with pytest.raises(FileExistsError, match="not empty"):
        titles_only.titles_only_copy(tmp_path / "src", tmp_path / "dst")
    with pytest.raises(FileNotFoundError, match="not a kb directory"):
        titles_only.titles_only_copy(tmp_path / "missing", tmp_path / "new")


def test_strip_questions_reports_absence() -> None:
    assert titles_only.strip_questions("id: a\ntitle: b\n") == ("id: a\ntitle: b\n", False)
