"""Adding an agent-linked question to a kb file's ``questions:``: the rest of the file stays byte for byte,
duplicates are not added, and a result the kb loader would reject leaves the file as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.loader import load_entry
from bot.suggestions.kb_file import PhrasingError, add_phrasing, yaml_item
from tests.helpers.kb_files import VALID_ENTRY


def write(tmp_path: Path, text: str, name: str = "beispiel.md") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_the_phrasing_is_appended_to_the_list_and_nothing_else_changes(tmp_path: Path) -> None:
    path = write(tmp_path, VALID_ENTRY)
    edit = add_phrasing(path, "  Wie geht das\n denn eigentlich? ", tmp_path)
    assert edit.added and edit.phrasing == "Wie geht das denn eigentlich?" and edit.entry_id == "beispiel"
    assert path.read_text(encoding="utf-8") == VALID_ENTRY.replace(
        "  - Geht das so?\n", "  - Geht das so?\n  - Wie geht das denn eigentlich?\n")
    assert load_entry(path).questions == ("Geht das so?", "Wie geht das denn eigentlich?")
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_indent_comments_crlf_and_a_later_key_are_kept(tmp_path: Path) -> None:
    text = VALID_ENTRY.replace("questions:\n  - Geht das so?\n",
                               "questions:   # Formulierungen\n    -   Geht das so?\n    # alt: Geht's?\n\n")
    text = text.replace("\n", "\r\n")
    path = write(tmp_path, text)
    assert add_phrasing(path, "Wie mache ich das: schnell?", tmp_path).added
    assert path.read_bytes() == text.replace(
        "    -   Geht das so?\r\n", '    -   Geht das so?\r\n    -   "Wie mache ich das: schnell?"\r\n').encode()
    assert load_entry(path).questions[-1] == "Wie mache ich das: schnell?"


def test_a_flow_list_becomes_a_block_list_and_a_missing_key_is_added(tmp_path: Path) -> None:
    flow = write(tmp_path, VALID_ENTRY.replace("questions:\n  - Geht das so?\n", 'questions: ["Geht das so?", \'a, b\']\n'))
    assert add_phrasing(flow, "Neu?", tmp_path).added
    assert load_entry(flow).questions == ("Geht das so?", "a, b", "Neu?")
    assert "tags: [test]\n" in flow.read_text(encoding="utf-8")
    bare_text = VALID_ENTRY.replace("questions:\n  - Geht das so?\n", "")
    bare = write(tmp_path, bare_text, "bare.md")
    assert add_phrasing(bare, "Neu?", tmp_path).added
    assert bare.read_text(encoding="utf-8") == bare_text.replace("review_by: 2027-01-01\n",
                                                                 "review_by: 2027-01-01\nquestions:\n  - Neu?\n")


@pytest.mark.parametrize("same", ["geht DAS   so?", "Wie geht das?", " wie  geht das? "])
def test_a_phrasing_already_there_is_not_added_twice(tmp_path: Path, same: str) -> None:
    path = write(tmp_path, VALID_ENTRY)
    edit = add_phrasing(path, same, tmp_path)
    assert not edit.added
    assert path.read_text(encoding="utf-8") == VALID_ENTRY


def test_an_invalid_result_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, VALID_ENTRY)
    monkeypatch.setattr("bot.suggestions.kb_file.yaml_item", lambda phrasing: "[kaputt")  # unbalanced flow
    with pytest.raises(PhrasingError, match="ungültig.*unverändert"):
        add_phrasing(path, "Neu?", tmp_path)
    assert path.read_text(encoding="utf-8") == VALID_ENTRY
    assert not list(tmp_path.glob(".*"))


def test_an_already_invalid_file_empty_or_overlong_phrasings_are_refused(tmp_path: Path) -> None:
    broken = write(tmp_path, VALID_ENTRY.replace("lang: de", "lang: xx"))
    with pytest.raises(PhrasingError, match="schon jetzt ungültig"):
        add_phrasing(broken, "Neu?", tmp_path)
    path = write(tmp_path, VALID_ENTRY, "ok.md")
    for bad, message in (("  \n ", "leer"), ("x" * 501, "länger als 500")):
        with pytest.raises(PhrasingError, match=message):
            add_phrasing(path, bad, tmp_path)
    with pytest.raises(PhrasingError, match="gibt es nicht mehr"):
        add_phrasing(tmp_path / "fehlt.md", "Neu?", tmp_path)
    assert path.read_text(encoding="utf-8") == VALID_ENTRY


@pytest.mark.parametrize("text", ["Wie geht das?", "a: b", "- x", "# y", "'quoted'", "[x]", "yes", "12", "ä & ö ~"])
def test_yaml_items_read_back_as_the_same_text(text: str) -> None:
    import yaml

    assert yaml.safe_load(f"- {yaml_item(text)}") == [text]


def test_the_phrasing_goes_into_the_layer_file_that_holds_the_live_entry(tmp_path: Path) -> None:
    from bot.config.agencies import Agency
    from bot.suggestions.service import SuggestionError, entry_file

    shared, local = tmp_path / "land", tmp_path / "adorf"
    for layer in (shared, local):
        layer.mkdir()
    write(shared, VALID_ENTRY, "beispiel.md")
    write(shared, VALID_ENTRY.replace("id: beispiel", "id: geteilt"), "geteilt.md")
    write(local, VALID_ENTRY.replace("Die Antwort.", "Die Antwort in Adorf."), "eigen.md")  # overrides 'beispiel'
    agency = Agency("adorf", "Gemeinde Adorf", (shared, local))
    assert entry_file(agency, "beispiel") == (local / "eigen.md", local)
    assert entry_file(agency, "geteilt") == (shared / "geteilt.md", shared)
    with pytest.raises(SuggestionError, match="gibt es nicht mehr"):
        entry_file(agency, "weg")
