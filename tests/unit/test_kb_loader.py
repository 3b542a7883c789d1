"""The kb loader: valid files load; each kind of invalid file is reported with file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest

from bot.kb import KbIssue, KbValidationError, load_entry, load_kb
from tests.conftest import ROOT
from tests.helpers.kb_files import VALID_ENTRY


def write(tmp_path: Path, text: str, name: str = "beispiel.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def issues_of(path: Path) -> List[KbIssue]:
    with pytest.raises(KbValidationError) as caught:
        load_entry(path, path.parent)
    return caught.value.issues


def test_valid_entry_loads_with_all_fields(tmp_path: Path) -> None:
    entry = load_entry(write(tmp_path, VALID_ENTRY), tmp_path)
    assert entry.id == "beispiel"
    assert entry.questions == ("Geht das so?",)
    assert entry.phrasings == ("Wie geht das?", "Geht das so?")
    assert entry.answer == "Die Antwort."
    assert str(entry.review_by) == "2027-01-01"
    assert entry.path == "beispiel.md"
    assert len(entry.content_hash) == 64


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [
        ("lang: de", "lang: fr", 6, "lang", "must be one of de, en"),
        ("id: beispiel", "id: Bei Spiel!", 2, "id", "not a valid id"),
        ("source: https://musterstadt.example/x", "source: musterstadt", 8, "source", "not an http(s) URL"),
        ("updated: 2026-11-01", "updated: gestern", 10, "updated", "YYYY-MM-DD"),
        ("review_by: 2027-01-01", "review_by: 2025-01-01", 11, "review_by", "before 'updated'"),
        ("tags: [test]", "tags: [Großes Tag]", 7, "tags", "lowercase"),
        ("questions:\n  - Geht das so?", "questions: nur ein Text", 4, "questions", "list of non-empty"),
        ("owner: Bürgeramt", "owner: Bürgeramt\ntitel: Tippfehler", 10, "titel", "unknown field"),
    ],
)
def test_invalid_field_names_file_line_and_field(tmp_path: Path, old: str, new: str, line: int, field: str,
                                                 words: str) -> None:
    assert old in VALID_ENTRY
    issues = issues_of(write(tmp_path, VALID_ENTRY.replace(old, new)))
    assert len(issues) == 1, issues
    issue = issues[0]
    assert (issue.path, issue.line, issue.field) == ("beispiel.md", line, field)
    assert words in issue.message
    assert str(issue).startswith(f"beispiel.md:{line}: {field}: ")


def test_missing_required_field(tmp_path: Path) -> None:
    issues = issues_of(write(tmp_path, VALID_ENTRY.replace("owner: Bürgeramt\n", "")))
    assert [(i.field, i.message) for i in issues] == [("owner", "required field is missing or empty")]


def test_yaml_syntax_error_reports_the_line(tmp_path: Path) -> None:
    issues = issues_of(write(tmp_path, VALID_ENTRY.replace("tags: [test]", "tags: [test")))
    assert issues[0].line in (7, 8)
    assert "invalid YAML" in issues[0].message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter\n", "must start with '---'"),
        ("---\nid: x\n", "not closed"),
        ("---\n- a\n- b\n---\nText\n", "mapping"),
    ],
)
def test_broken_structure(tmp_path: Path, text: str, message: str) -> None:
    issues = issues_of(write(tmp_path, text))
    assert message in issues[0].message


def test_empty_and_overlong_answers(tmp_path: Path) -> None:
    empty = issues_of(write(tmp_path, VALID_ENTRY.replace("Die Antwort.\n", "  \n")))
    assert (empty[0].field, empty[0].line) == ("answer", 13)
    long = issues_of(write(tmp_path, VALID_ENTRY.replace("Die Antwort.", "x" * 3001)))
    assert "3001 characters" in long[0].message


def test_binary_file_is_rejected_with_line(tmp_path: Path) -> None:
    path = tmp_path / "kaputt.md"
    path.write_bytes(VALID_ENTRY.encode() + b"\n\xff\xfe\x00")
    issues = issues_of(path)
    assert issues[0].message == "file is not valid UTF-8"
    assert issues[0].line == 15


def test_duplicate_ids_name_both_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "a", VALID_ENTRY)
    write(tmp_path / "b", VALID_ENTRY)
    with pytest.raises(KbValidationError) as caught:
        load_kb(tmp_path)
    text = str(caught.value)
    assert "duplicate id 'beispiel'" in text
    assert "a/beispiel.md" in text and "b/beispiel.md" in text


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, VALID_ENTRY.replace("lang: de", "lang: xx"), "one.md")
    write(tmp_path, VALID_ENTRY.replace("id: beispiel", "id: zwei").replace("source: https://", "source: ftp://"), "two.md")
    with pytest.raises(KbValidationError) as caught:
        load_kb(tmp_path)
    assert sorted(i.path for i in caught.value.issues) == ["one.md", "two.md"]


def test_ignored_files_and_missing_directory(tmp_path: Path) -> None:
    write(tmp_path, VALID_ENTRY)
    write(tmp_path, "not yaml at all", "_draft.md")
    write(tmp_path, "ignored", "notes.txt")
    assert [e.id for e in load_kb(tmp_path).entries] == ["beispiel"]
    with pytest.raises(KbValidationError, match="kb directory not found"):
        load_kb(tmp_path / "missing")


def test_content_hash_changes_with_any_edit(tmp_path: Path) -> None:
    path = write(tmp_path, VALID_ENTRY)
    before = load_kb(tmp_path).content_hash
    path.write_text(VALID_ENTRY.replace("Die Antwort.", "Die neue Antwort."), encoding="utf-8")
    assert load_kb(tmp_path).content_hash != before


def test_sample_kb_is_valid_and_large_enough() -> None:
    kb = load_kb(ROOT / "kb")
    german = [e for e in kb.entries if e.lang == "de"]
    english = [e for e in kb.entries if e.lang == "en"]
    assert len(german) >= 60 and len(english) >= 15
    assert all(e.source.startswith("https://") for e in kb.entries)
    assert all(Path(e.path).stem == e.id for e in kb.entries)


def test_a_file_parsed_before_is_parsed_again_when_its_bytes_change(tmp_path: Path) -> None:
    path = write(tmp_path, VALID_ENTRY)
    assert load_entry(path, tmp_path).answer == "Die Antwort."
    assert load_entry(path, tmp_path) is load_entry(path, tmp_path)  # unchanged bytes: the cached parse
    write(tmp_path, VALID_ENTRY.replace("Die Antwort.", "Die neue Antwort."))
    assert load_entry(path, tmp_path).answer == "Die neue Antwort."
    write(tmp_path, VALID_ENTRY.replace("lang: de", "lang: fr"))
    assert [i.field for i in issues_of(path)] == ["lang"]  # problems are never cached away
