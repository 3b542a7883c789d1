"""kb import writing: re-imports, edited entries, --force, --dry-run, overlong answers, all-or-nothing, the CLI,
markdown folders, and the time for 1,000 entries."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.editor.importing import writer
from bot.editor.importing.writer import MANIFEST
from bot.kb.loader import MAX_ANSWER
from tests.helpers.kb_import import DATA, TODAY, answers, jsonld_page, run_import, valid_kb

URL = "https://www.musterstadt.example/faq"


def _page(path: Path, answer: str = "Im Bürgeramt.") -> Path:
    path.write_text(f"<h2>Wo beantrage ich einen Reisepass?</h2><p>{answer}</p>"
                    "<h2>Was kostet ein Personalausweis?</h2><p>37 Euro.</p>", encoding="utf-8")
    return path


def test_reimport_is_unchanged_then_updates_untouched_files_and_keeps_edited_ones(tmp_path: Path) -> None:
    out, page = tmp_path / "kb", _page(tmp_path / "faq.html")
    first = run_import(page, out, source_url=URL)
    assert sorted(first.written.created) == ["beantrage-reisepass.md", "kostet-personalausweis.md"]
    again = run_import(page, out, source_url=URL, today=TODAY.replace(day=30))  # a later day: same content
    assert sorted(again.written.unchanged) == sorted(first.written.created) and again.written.created == []
    assert "updated: 2026-11-23" in (out / "beantrage-reisepass.md").read_text(encoding="utf-8")

    edited = out / "kostet-personalausweis.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("37 Euro.", "37 Euro, bar oder mit Karte."),
                      encoding="utf-8")
    _page(page, answer="Im Bürgeramt, mit Termin.")  # the page changed too
    third = run_import(page, out, source_url=URL)
    assert third.written.updated == ["beantrage-reisepass.md"]  # untouched since the last import: updated
    assert third.written.kept == ["kostet-personalausweis.md"] and third.exit_code == 1
    assert "Kept as edited" in third.to_text()
    kb = valid_kb(out)
    assert answers(kb) == {"Wo beantrage ich einen Reisepass?": "Im Bürgeramt, mit Termin.",
                           "Was kostet ein Personalausweis?": "37 Euro, bar oder mit Karte."}

    forced = run_import(page, out, source_url=URL, force=True)
    assert forced.written.overwritten == ["kostet-personalausweis.md"] and forced.exit_code == 0
    assert answers(valid_kb(out))["Was kostet ein Personalausweis?"] == "37 Euro."
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["files"]) == {"beantrage-reisepass.md", "kostet-personalausweis.md"}


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "kb"
    report = run_import(_page(tmp_path / "faq.html"), out, source_url=URL, dry_run=True)
    assert not out.exists()
    assert len(report.written.created) == 2 and "Dry run: nothing was written." in report.to_text()
    existing = tmp_path / "kb2"
    existing.mkdir()
    run_import(_page(tmp_path / "faq.html"), existing, source_url=URL, dry_run=True)
    assert list(existing.iterdir()) == []


def test_overlong_answers_are_held_back_whole_and_long_ones_flagged(tmp_path: Path) -> None:
    long_text = "Ein Satz über die Abfallgebühren. " * 40  # about 1,360 characters
    overlong = "Ein sehr langer Absatz. " * 200  # about 4,800 characters
    page = tmp_path / "faq.html"
    page.write_text(f"<h2>Wie lang ist lang?</h2><p>{long_text}</p><h2>Und zu lang?</h2><p>{overlong}</p>"
                    "<h2>Kurz?</h2><p>Ja.</p>", encoding="utf-8")
    out = tmp_path / "kb"
    report = run_import(page, out, source_url=URL)
    kb = valid_kb(out)  # the loader ignores _overlong/
    assert set(answers(kb)) == {"Wie lang ist lang?", "Kurz?"}
    held = (out / "_overlong" / "lang.md").read_text(encoding="utf-8")
    assert overlong.strip() in held and len(overlong.strip()) > MAX_ANSWER  # not cut
    data = report.to_dict()
    assert [e["file"] for e in data["held_back_overlong"]] == ["_overlong/lang.md"]
    assert [e["title"] for e in data["long_answers"]] == ["Wie lang ist lang?"]
    assert "Held back, answer over 3000 characters" in report.to_text()


def test_ids_taken_by_other_files_of_the_kb_get_a_suffix(tmp_path: Path) -> None:
    out = tmp_path / "kb"
    (out / "thema").mkdir(parents=True)
    (out / "thema" / "alt.md").write_text(
        "---\nid: beantrage-reisepass\ntitle: Alt\nlang: de\nsource: https://a.example/x\nowner: X\n"
        "updated: 2026-01-01\n---\nAlt.\n", encoding="utf-8")
    report = run_import(_page(tmp_path / "faq.html"), out, source_url=URL)
    assert "beantrage-reisepass-2.md" in report.written.created
    assert len(valid_kb(out).entries) == 3


def test_a_failed_move_puts_back_what_was_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, page = tmp_path / "kb", _page(tmp_path / "faq.html")
    run_import(page, out, source_url=URL)
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    _page(page, answer="Neu.")
    page.write_text(page.read_text(encoding="utf-8") + "<h2>Neue Frage?</h2><p>Neue Antwort.</p>", encoding="utf-8")
    real_replace, calls = os.replace, []

    def failing_replace(source: Any, target: Any) -> None:
        calls.append(target)
        if len(calls) == 2:
            raise OSError("disk full")
        real_replace(source, target)

    monkeypatch.setattr(writer.os, "replace", failing_replace)
    with pytest.raises(writer.FaqImportError, match="nothing was changed"):
        run_import(page, out, source_url=URL)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert not [path for path in tmp_path.rglob(".kb-import-*")]


def test_markdown_folder(tmp_path: Path) -> None:
    folder = tmp_path / "wiki"
    (folder / "abfall").mkdir(parents=True)
    (folder / "abfall" / "tonnen.md").write_text(
        "---\nlang: de\n---\n# Abfall\n\nEinleitung.\n\n## Wann wird die Biotonne geleert?\n\nAlle zwei Wochen,"
        " siehe [Kalender](kalender.html).\n\n### Ausnahmen\n\n- an Feiertagen einen Tag später\n\n"
        "## Wohin mit Sperrmüll?\n\n<b>Anmelden</b> über das <a href=\"javascript:x()\">Formular</a>.\n"
        "<script>\nalert(1)\n\n</script>\n```\n## kein Titel\n```\n", encoding="utf-8")
    (folder / "_entwurf.md").write_text("## Geheim?\n\nNoch nicht.\n", encoding="utf-8")
    report = run_import(folder, tmp_path / "kb", source_url="https://stadt.example/abfall/")
    kb = valid_kb(tmp_path / "kb")
    assert report.kind == "markdown folder"
    assert answers(kb) == {
        "Wann wird die Biotonne geleert?": "Alle zwei Wochen, siehe [Kalender](https://stadt.example/abfall/kalender"
        ".html).\n\n**Ausnahmen**\n\n- an Feiertagen einen Tag später",
        "Wohin mit Sperrmüll?": "**Anmelden** über das Formular.\n\n## kein Titel",
    }
    assert report.plan.entries[0].where == "abfall/tonnen.md:8"


def test_cli_prints_the_report_and_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "kb"
    code = main(["kb", "import", str(DATA / "google_faqpage_jsonld.html"), "--out", str(out), "--owner", "Ausbildung",
                 "--source-url", "https://example.org/faq", "--lang", "en", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and [e["id"] for e in data["imported"]] == ["find-apprenticeship", "contact"]
    assert {entry.owner for entry in valid_kb(out).entries} == {"Ausbildung"}
    empty = tmp_path / "empty.html"
    empty.write_text("", encoding="utf-8")
    code = main(["kb", "import", str(empty), "--out", str(tmp_path / "other"), "--owner", "X"])
    assert code == 2 and "error: empty.html is empty" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()


def test_a_thousand_entries_import_well_under_a_minute(tmp_path: Path) -> None:
    page = tmp_path / "big.html"
    page.write_text(jsonld_page(1000), encoding="utf-8")
    started = time.perf_counter()
    report = run_import(page, tmp_path / "kb", source_url=URL)
    seconds = time.perf_counter() - started
    assert len(report.written.created) == 1000 and report.kb_problems == []
    assert seconds < 30, f"1,000 entries took {seconds:.1f} s"
    kb = valid_kb(tmp_path / "kb")
    assert len(kb.entries) == 1000
    entry = kb.by_id()["beantrage-leistung-nummer-999-buergeramt"]
    assert entry.source == f"{URL}#frage-999" and "[Mehr](https://www.musterstadt.example/info/999)" in entry.answer
