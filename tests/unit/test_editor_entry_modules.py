"""The plain modules behind FAQ editing in the browser: the form <-> the kb file (bot/editor/entry_form.py), the
check with the loader and the kb check rules (entry_check.py), and the conflict-safe write (entry_store.py)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Optional

import pytest

from bot.editor.entry_check import check_text
from bot.editor.entry_form import EntryForm, entry_text, scalar
from bot.editor.entry_store import EntryConflict, EntrySaveError, entries_of, file_hash, folders_of, locate, save_entry
from bot.kb.loader import load_entry
from bot.suggestions.git_commit import commit_file
from tests.conftest import ROOT

MINI = ROOT / "tests" / "fixtures" / "mini_kb"
TODAY = date(2026, 11, 23)


def full_form() -> EntryForm:
    return EntryForm(id="lagerfeuer", title="Darf ich: grillen? # nicht kommentieren", lang="de",
                     questions="  Lagerfeuer im Park \n\n- mit Strich\n\"Zitat\" am Anfang\nja",
                     tags="abfall, termin  umwelt", source="https://www.stadt.de/park?a=1#x", owner="Ordnungsamt",
                     updated="2026-11-20", review_by="2027-06-01", plain="Zeile eins.\n\n  eingerückt\nZeile: drei",
                     tests="Feuer im Park?", answer="**Nein.**\n\n- Grillplatz: ja\n", folder="freizeit")


def test_the_file_written_from_a_form_reads_back_exactly(tmp_path: Path) -> None:
    form = full_form()
    path = tmp_path / form.relative_path()
    path.parent.mkdir()
    path.write_text(entry_text(form), encoding="utf-8")
    entry = load_entry(path, tmp_path)
    assert entry.path == "freizeit/lagerfeuer.md" and entry.title == "Darf ich: grillen? # nicht kommentieren"
    assert entry.questions == ("Lagerfeuer im Park", "- mit Strich", "\"Zitat\" am Anfang", "ja")
    assert entry.tags == ("abfall", "termin", "umwelt") and entry.source == "https://www.stadt.de/park?a=1#x"
    assert entry.plain == "Zeile eins.\n\n  eingerückt\nZeile: drei" and entry.answer == "**Nein.**\n\n- Grillplatz: ja"
    assert (entry.updated, entry.review_by) == (date(2026, 11, 20), date(2027, 6, 1))
    assert EntryForm.of_entry(entry) == EntryForm.of_values({**vars(EntryForm.of_entry(entry))})
    assert EntryForm.of_entry(entry).questions.split("\n") == list(entry.questions)


def test_scalars_that_yaml_would_change_are_quoted() -> None:
    assert scalar("Bürgeramt") == "Bürgeramt"
    for tricky in ("yes", "no", "2026-01-01", "a: b", "# x", "[x]", "", "@x", "1.5"):
        assert scalar(tricky).startswith('"'), tricky


def test_with_question_appends_once_and_keeps_known_ones() -> None:
    form = EntryForm(title="Wie melde ich Sperrmüll an?", questions="Abholung")
    assert form.with_question("  Alte   Sofas? ").question_list() == ["Abholung", "Alte Sofas?"]
    assert form.with_question("abholung") is form and form.with_question("wie melde ich sperrmüll an?") is form
    assert form.with_question("") is form


def test_the_check_uses_the_loader_and_the_kb_check_rules(tmp_path: Path) -> None:
    layer = tmp_path / "kb"
    shutil.copytree(MINI, layer)
    (layer / "_tags.yml").write_text("- abfall\n- termin\n", encoding="utf-8")
    good = check_text(entry_text(full_form()), "freizeit/lagerfeuer.md", layer, TODAY)
    assert good.ok and good.parsed is not None
    assert [(p.field, p.code, p.severity) for p in good.problems] == [("tags", "tag_unknown_no_match", "warning")]
    bad = check_text(entry_text(EntryForm(id="x y", lang="fr", answer="")), "entwurf.md", layer, TODAY)
    fields = bad.by_field()
    assert not bad.ok and bad.parsed is None
    assert {"id", "lang", "title", "source", "owner", "updated", "answer"} <= set(fields)
    assert fields["lang"][0].message == "Unbekannte Sprache „fr“." and fields["lang"][0].severity == "error"
    placeholder = check_text(entry_text(EntryForm(**{**vars(full_form()), "answer": "TODO"})), "a/b.md", layer, TODAY)
    assert not placeholder.ok and placeholder.by_field()["answer"][0].code == "placeholder"


def test_an_id_used_by_another_file_is_a_duplicate_but_not_the_files_own(tmp_path: Path) -> None:
    layer = tmp_path / "kb"
    shutil.copytree(MINI, layer)
    own = locate([layer], "sperrmuell")
    assert own is not None
    text = own.path.read_text(encoding="utf-8")
    assert check_text(text, own.entry.path, layer, TODAY).ok
    clash = check_text(text, "neu/sperrmuell.md", layer, TODAY)
    assert [p.code for p in clash.problems if p.severity == "error"] == ["duplicate_id"]
    assert check_text(text, "neu/sperrmuell.md", layer, TODAY, own_path=own.entry.path).ok


def test_locate_prefers_the_last_layer_and_lists_folders(tmp_path: Path) -> None:
    shared, local = tmp_path / "shared", tmp_path / "local"
    shutil.copytree(MINI, shared)
    shutil.copytree(MINI, local)
    (local / "kaputt.md").write_text("---\nid: kaputt\n---\n", encoding="utf-8")  # one broken file changes nothing
    found = locate([shared, local], "sperrmuell")
    assert found is not None and found.layer == local
    assert locate([shared, local], "gibt-es-nicht") is None
    assert [index for _, index in entries_of([shared, local])] == [1, 1, 1, 1]
    assert folders_of(local) == sorted(p.name for p in local.iterdir() if p.is_dir())


def test_save_refuses_a_changed_file_and_an_existing_new_one(tmp_path: Path) -> None:
    path = tmp_path / "kb" / "a.md"
    saved = save_entry(path, "eins\n", "")
    assert saved.created and saved.commit is None and path.read_text() == "eins\n"
    assert saved.content_hash == file_hash(path)
    with pytest.raises(EntryConflict, match="Es gibt schon eine Datei a.md"):
        save_entry(path, "zwei\n", "")
    old = file_hash(path)
    path.write_text("von Hand geändert\n")
    with pytest.raises(EntryConflict, match="Die Datei wurde geändert"):
        save_entry(path, "zwei\n", old)
    assert path.read_text() == "von Hand geändert\n"
    assert not save_entry(path, "drei\n", file_hash(path)).created and path.read_text() == "drei\n"
    assert file_hash(tmp_path / "fehlt.md") == ""
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.md"]  # no temporary file left


def test_a_refused_commit_puts_the_old_file_back(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "kb").mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", "-b", "main"], cwd=repo, check=True)
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'nein danke' >&2\nexit 1\n")
    hook.chmod(0o755)
    path = repo / "kb" / "a.md"
    def commit(written: Path) -> Optional[str]:
        return commit_file(written, "x", "Frau Roth", "roth@auskunft.invalid")

    with pytest.raises(EntrySaveError, match="nein danke"):
        save_entry(path, "neu\n", "", commit)
    assert not path.exists()
    path.write_text("alt\n")
    with pytest.raises(EntrySaveError):
        save_entry(path, "neu\n", file_hash(path), commit)
    assert path.read_text() == "alt\n"
