"""``auskunft kb diff``: kb at a git ref, recent questions from the tracker store, the diff and its report (fast)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import List, Sequence

import pytest

from bot.decision import ANSWER, CLARIFY, DecisionConfig
from bot.editor.diff import DiffReport, diff_kb, entry_changes, render_diff, run_diff
from bot.editor.kb_source import KbSourceError, load_kb_at
from bot.editor.recent_questions import read_recent_questions, recent_questions
from bot.kb import KbValidationError, load_kb
from tests.conftest import ROOT, HashEncoder
from tests.helpers.tracker_store import SQLITE_ENDPOINTS, tracker_db, write_endpoints

CONFIG = DecisionConfig()
SPERRMUELL = "Sperrmüll melden Sie online oder telefonisch an. Die Abholung ist zweimal im Jahr kostenlos."
ELEKTRO = "Elektrogeräte geben Sie kostenlos am Wertstoffhof ab."
MOVED = "Wie kann ich einen alten Kühlschrank entsorgen?"  # a test question that moves from sperrmuell to elektroschrott
WRONG = "Kann ich Elektrogeräte am Samstag abgeben?"  # the new entry's test: the bot asks back instead
STEADY = "Wo bekomme ich einen neuen Perso?"  # unaffected: answered by personalausweis before and after


def write_entry(kb: Path, folder: str, faq_id: str, title: str, questions: Sequence[str], answer: str,
                tests: Sequence[str] = ()) -> Path:
    path = kb / folder / f"{faq_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    items = "".join(f"  - {q}\n" for q in questions)
    checks = "".join(f"  - {q}\n" for q in tests)
    path.write_text(f"---\nid: {faq_id}\ntitle: {title}\nquestions:\n{items}" + (f"tests:\n{checks}" if tests else "")
                    + f"lang: de\ntags: [test]\nsource: https://musterstadt.example/{faq_id}\nowner: Abfallwirtschaft\n"
                    f"updated: 2026-11-01\n---\n{answer}\n", encoding="utf-8")
    return path


def make_v1(kb: Path) -> None:
    """The mini kb with a test question on sperrmuell and personalausweis, and an Elektroschrott entry."""
    write_entry(kb, "abfall", "sperrmuell", "Wie melde ich Sperrmüll an?",
                ["Abholung von Sperrmüll", "Alte Möbel abholen lassen", "Alten Kühlschrank entsorgen"],
                SPERRMUELL + " Einen alten Kühlschrank entsorgen wir mit.", [MOVED])
    write_entry(kb, "abfall", "elektroschrott", "Wohin mit Elektroschrott?",
                ["Elektrogeräte abgeben", "Altes Handy entsorgen"], ELEKTRO)
    path = kb / "buergeramt" / "personalausweis.md"
    path.write_text(path.read_text(encoding="utf-8").replace("lang: de\n", f"tests:\n  - {STEADY}\nlang: de\n"),
                    encoding="utf-8")


def make_v2(kb: Path) -> None:
    """v1 edited: the Kühlschrank phrasing and its test move to elektroschrott, the dog tax goes, a new entry."""
    write_entry(kb, "abfall", "sperrmuell", "Wie melde ich Sperrmüll an?",
                ["Abholung von Sperrmüll", "Alte Möbel abholen lassen"], SPERRMUELL)
    write_entry(kb, "abfall", "elektroschrott", "Wohin mit Elektroschrott?",
                ["Elektrogeräte abgeben", "Altes Handy entsorgen", "Alten Kühlschrank entsorgen"],
                ELEKTRO + " Auch einen alten Kühlschrank entsorgen Sie dort.", [MOVED])
    (kb / "steuern" / "hundesteuer-anmelden.md").unlink()
    write_entry(kb, "abfall", "wertstoffhof", "Wann hat der Wertstoffhof geöffnet?", ["Öffnungszeiten Wertstoffhof"],
                "Der Wertstoffhof ist Montag bis Samstag geöffnet.", ["Öffnungszeiten Wertstoffhof", WRONG])


@pytest.fixture
def kbs(mini_kb: Path, tmp_path: Path) -> tuple[Path, Path]:
    make_v1(mini_kb)
    new = tmp_path / "kb-new"
    shutil.copytree(mini_kb, new)
    make_v2(new)
    return mini_kb, new


def diff(old: Path, new: Path, questions: Sequence[str] = (), **kwargs: object) -> DiffReport:
    return diff_kb(load_kb(old), load_kb(new), questions, HashEncoder(), CONFIG, **kwargs)  # type: ignore[arg-type]


def test_a_moved_question_a_removed_entry_an_added_entry_and_a_failing_test(kbs: tuple[Path, Path]) -> None:
    report = diff(*kbs, ["Hund anmelden Steuer", STEADY, "Hund anmelden Steuer"])
    assert [(c.faq_id, c.status, c.fields) for c in report.entries] == [
        ("hundesteuer-anmelden", "removed", ()), ("wertstoffhof", "added", ()),
        ("elektroschrott", "changed", ("questions", "answer", "tests")),
        ("sperrmuell", "changed", ("questions", "answer", "tests"))]
    by_text = {q.question: q for q in report.questions}
    assert list(by_text) == [MOVED, STEADY, "Öffnungszeiten Wertstoffhof", WRONG, "Hund anmelden Steuer"]
    assert [q.source for q in report.questions] == ["test"] * 4 + ["recent"]  # STEADY is a test: checked once

    moved = by_text[MOVED]
    assert (moved.old.key, moved.new.key) == ((ANSWER, "sperrmuell"), (ANSWER, "elektroschrott"))
    assert (moved.old_expected, moved.expected) == (("sperrmuell",), ("elektroschrott",))
    removed = by_text["Hund anmelden Steuer"]
    assert removed.old.key == (ANSWER, "hundesteuer-anmelden") and removed.new.faq_id != "hundesteuer-anmelden"
    assert by_text[STEADY].old.key == by_text[STEADY].new.key == (ANSWER, "personalausweis")
    assert by_text["Öffnungszeiten Wertstoffhof"].new.key == (ANSWER, "wertstoffhof")

    assert [q.question for q in report.changed] == [MOVED, "Öffnungszeiten Wertstoffhof", "Hund anmelden Steuer"]
    # failing although its decision did not change (clarify before, clarify now)
    assert [(q.question, faq_id) for q, faq_id in report.failing] == [(WRONG, "wertstoffhof")]
    assert by_text[WRONG].old.key == by_text[WRONG].new.key == (CLARIFY, None)
    assert "wertstoffhof" in by_text[WRONG].new.choices
    assert report.count("test") == 4 and report.count("recent") == 1
    assert (report.old_entries, report.new_entries) == (5, 5)


def test_a_failing_test_that_did_not_change_is_still_listed(kbs: tuple[Path, Path]) -> None:
    old, new = kbs
    report = diff(new, new)
    assert report.entries == [] and report.changed == []
    assert [(q.question, faq_id) for q, faq_id in report.failing] == [(WRONG, "wertstoffhof")]
    assert "schon vorher nicht" in render_diff(report)


def test_the_report_reads_well_in_german_and_english(kbs: tuple[Path, Path]) -> None:
    report = diff(*kbs, ["Hund anmelden Steuer"], labels=("HEAD (abc)", "kb/"))
    german = render_diff(report)
    assert "Vergleich: HEAD (abc) (5 Einträge) → kb/ (5 Einträge)" in german
    assert "entfernt  [hundesteuer-anmelden] „Wie melde ich meinen Hund zur Hundesteuer an?“" in german
    assert "geändert  [sperrmuell] „Wie melde ich Sperrmüll an?“ – abfall/sperrmuell.md (questions, answer, tests)" \
        in german
    assert f"„{MOVED}“ (Testfrage von elektroschrott)" in german
    assert "Antwort [sperrmuell]" in german and "→  Antwort [elektroschrott]" in german
    assert "„Hund anmelden Steuer“ (aktuelle Bürgerfrage)" in german
    assert f"„{WRONG}“ (neue Testfrage)\n     soll [wertstoffhof] → Bot: Rückfrage [" in german
    english = render_diff(report, "en")
    assert "removed   [hundesteuer-anmelden]" in english and "(recent citizen question)" in english
    assert f'"{WRONG}" (new test question)\n     expects [wertstoffhof] → bot: clarify [' in english
    with pytest.raises(ValueError, match="lang"):
        render_diff(report, "fr")


def test_a_file_only_reformatted_or_moved_is_a_change_without_content_fields(mini_kb: Path, tmp_path: Path) -> None:
    new = tmp_path / "kb-new"
    shutil.copytree(mini_kb, new)
    path = new / "abfall" / "sperrmuell.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    (new / "steuern" / "hundesteuer-anmelden.md").rename(new / "abfall" / "hundesteuer-anmelden.md")
    changes = entry_changes(load_kb(mini_kb), load_kb(new))
    assert [(c.faq_id, c.fields) for c in changes] == [("hundesteuer-anmelden", ("path",)), ("sperrmuell", ())]
    assert "(nur Formatierung)" in render_diff(diff(mini_kb, new))


# --- recent questions from the tracker store ---------------------------------------------------------------------


def test_recent_questions_newest_first_without_buttons_duplicates_and_personal_data(tmp_path: Path) -> None:
    db = tracker_db(tmp_path / "trackers.sqlite3", {"alice": [
        "Wie melde ich Sperrmüll an?", "/greet", "Hund anmelden Steuer", "/choose{\"faq_id\": \"x\"}",
        "hund  anmelden steuer", "Schreiben Sie an max.mustermann@example.org", "   ", "Perso verloren"]})
    endpoints = write_endpoints(tmp_path, SQLITE_ENDPOINTS)
    environ = {"TRACKER_DB": str(db)}
    assert recent_questions(10, environ, endpoints) == [
        "Perso verloren", "Schreiben Sie an [E-MAIL]", "hund anmelden steuer", "Wie melde ich Sperrmüll an?"]
    # several conversations: newest first across them
    tracker_db(tmp_path / "two.sqlite3", {"alice": ["Frage A1", "Frage A2"], "bob": ["Frage B1"]})
    assert recent_questions(5, {"TRACKER_DB": str(tmp_path / "two.sqlite3")}, endpoints) == [
        "Frage A2", "Frage B1", "Frage A1"]
    assert recent_questions(2, environ, endpoints) == ["Perso verloren", "Schreiben Sie an [E-MAIL]"]
    assert recent_questions(0, environ, endpoints) == []


def test_no_recent_questions_without_an_sql_store_or_database(tmp_path: Path) -> None:
    missing = tmp_path / "not-yet.sqlite3"
    found = read_recent_questions(5, {"TRACKER_DB": str(missing)}, write_endpoints(tmp_path, SQLITE_ENDPOINTS))
    assert found.questions == [] and [n.code for n in found.notes] == ["no_database"]
    assert not missing.exists()  # reading never creates the database
    for section, code in [("tracker_store:\n  type: redis\n  url: ${REDIS_HOST}\n", "not_sql"),
                          ("lock_store:\n  type: in_memory\n", "not_sql"),
                          ("tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: ${UNSET}\n", "unreadable")]:
        found = read_recent_questions(5, {}, write_endpoints(tmp_path, section))
        assert found.questions == [] and [n.code for n in found.notes] == [code], section
    assert "nicht SQL (redis)" in render_diff(diff_kb(
        load_kb(ROOT / "tests" / "fixtures" / "mini_kb"), load_kb(ROOT / "tests" / "fixtures" / "mini_kb"), [],
        HashEncoder(), CONFIG, notes=read_recent_questions(5, {}, write_endpoints(tmp_path, "tracker_store:\n  type: redis\n"))
        .notes))


def test_an_events_table_missing_is_a_note_not_a_crash(tmp_path: Path) -> None:
    db = tmp_path / "empty.sqlite3"
    import sqlite3

    sqlite3.connect(db).close()
    found = read_recent_questions(5, {"TRACKER_DB": str(db)}, write_endpoints(tmp_path, SQLITE_ENDPOINTS))
    assert found.questions == [] and found.notes[0].code == "unreadable" and "events" in found.notes[0].detail


# --- the kb at a git ref --------------------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=Redaktion", "-c", "user.email=redaktion@example.org",
                           "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                          cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with kb v1 committed under kb/ and v2 in the working directory."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini_kb", root / "kb")
    make_v1(root / "kb")
    (root / "README.md").write_text("Bürgerservice\n", encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "kb v1")
    make_v2(root / "kb")
    return root


def test_diff_of_head_against_the_working_directory(repo: Path) -> None:
    kb_dir = repo / "kb"
    commits: List[str] = []
    old = load_kb_at("HEAD", kb_dir, commits)
    assert {e.id for e in old.entries} == {"sperrmuell", "elektroschrott", "personalausweis", "hundesteuer-anmelden",
                                           "en-register-address"}
    assert commits == [git(repo, "rev-parse", "HEAD").strip()]
    assert old.by_id()["sperrmuell"].path == "abfall/sperrmuell.md"  # paths relative to the kb, as for kb/
    report = diff_kb(old, load_kb(kb_dir), [], HashEncoder(), CONFIG)
    assert [(c.faq_id, c.status) for c in report.entries][:2] == [("hundesteuer-anmelden", "removed"),
                                                                  ("wertstoffhof", "added")]
    assert [q.question for q in report.changed][0] == MOVED
    status = git(repo, "status", "--porcelain", "--untracked-files=all")  # the working tree is left as it was
    assert " D kb/steuern/hundesteuer-anmelden.md" in status and "?? kb/abfall/wertstoffhof.md" in status
    # a directory is loaded as it is, also the working tree itself
    assert load_kb_at(str(kb_dir), kb_dir).content_hash == load_kb(kb_dir).content_hash


def test_an_older_commit_and_a_ref_without_the_kb(repo: Path) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "kb v2")
    assert "hundesteuer-anmelden" in load_kb_at("HEAD~1", repo / "kb").by_id()
    assert "hundesteuer-anmelden" not in load_kb_at("main", repo / "kb").by_id()
    (repo / "kb").rename(repo / "faq")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "kb moved")
    with pytest.raises(KbSourceError, match="kb.*gab es in Git-Referenz „HEAD~2“"):
        load_kb_at("HEAD~2", repo / "faq")


@pytest.mark.parametrize("ref", ["does-not-exist", "HEAD~5", "--output=/tmp/x", "", "deadbeef"])
def test_an_unknown_ref_is_a_clear_error(repo: Path, ref: str) -> None:
    with pytest.raises(KbSourceError, match=f"Unbekannte Git-Referenz „{ref}“"):
        load_kb_at(ref, repo / "kb")


def test_a_kb_outside_git_has_no_refs(mini_kb: Path) -> None:
    with pytest.raises(KbSourceError, match="keinem Git-Repository"):
        load_kb_at("HEAD", mini_kb)


def test_an_invalid_kb_at_the_ref_is_reported_like_kb_validate(repo: Path) -> None:
    (repo / "kb" / "abfall" / "kaputt.md").write_text("kein front matter\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "broken")
    with pytest.raises(KbValidationError, match="abfall/kaputt.md"):
        load_kb_at("HEAD", repo / "kb")


# --- run_diff, as 'auskunft kb diff' runs it ------------------------------------------------------------------------


def test_run_diff_reads_the_tracker_store_and_fails_in_strict_mode(
    repo: Path, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.embedding.encoder

    monkeypatch.setattr(bot.embedding.encoder, "shared_encoder", lambda model, threads=1, **_: HashEncoder())
    isolated_settings.mkdir(parents=True, exist_ok=True)
    tracker_db(isolated_settings / "trackers.sqlite3", {"c1": ["Hund anmelden Steuer", "/affirm"]})
    out = io.StringIO()
    assert run_diff("HEAD", repo / "kb", out=out) == 0  # the repository's endpoints.yml: SQLite under home
    text = out.getvalue()
    assert "Vergleich: HEAD (" in text and "„Hund anmelden Steuer“ (aktuelle Bürgerfrage)" in text
    assert "1 aktuelle Bürgerfragen" in text and "/affirm" not in text
    assert run_diff("HEAD", repo / "kb", out=io.StringIO(), fail_on_failing_tests=True) == 1
    assert run_diff("HEAD", repo / "kb", recent=0, lang="en", out=io.StringIO()) == 0
    # a kb without failing tests passes in strict mode
    (repo / "kb" / "abfall" / "wertstoffhof.md").unlink()
    assert run_diff("HEAD", repo / "kb", out=io.StringIO(), fail_on_failing_tests=True) == 0
    assert run_diff("nope", repo / "kb", out=io.StringIO()) == 2


def test_a_kb_tuned_model_embeds_each_kb_and_its_questions(kbs: tuple[Path, Path], tmp_path: Path) -> None:
    tuned: List[HashEncoder] = []

    def tune(kb: object) -> HashEncoder:
        tuned.append(HashEncoder())
        return tuned[-1]

    plain = diff(*kbs, [STEADY])
    report = diff(*kbs, [STEADY], tune_for_kb=tune, cache_dir=tmp_path / "cache")
    assert len(tuned) == 2 and all(e.calls > 0 for e in tuned)
    assert [(q.old.key, q.new.key) for q in report.questions] == [(q.old.key, q.new.key) for q in plain.questions]
    assert list((tmp_path / "cache" / HashEncoder.fingerprint).glob("*.npy"))  # the build's cache is filled
