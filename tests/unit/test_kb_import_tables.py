"""kb import of CMS and spreadsheet exports: CSV and XLSX, columns found by header or mapped with flags."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from bot.editor.importing import ColumnMap, FaqImportError
from tests.helpers.kb_import import DATA, answers, run_import, valid_kb, xlsx_bytes

URL = "https://www.musterstadt.example/abfall"


def test_semicolon_csv_with_german_headers_html_cells_and_phrasings(tmp_path: Path) -> None:
    report = run_import(DATA / "faq_export.csv", tmp_path / "kb", source_url=URL)
    kb = valid_kb(tmp_path / "kb")
    assert report.method == "columns question=Frage, answer=Antwort, source=Link, phrasings=Synonyme"
    by_title = {entry.title: entry for entry in kb.entries}
    bulky = by_title["Wie melde ich Sperrmüll an?"]
    assert bulky.answer == "Online über das [Formular](https://www.musterstadt.example/sperrmuell) oder telefonisch."
    assert bulky.questions == ("Sperrmüll abholen lassen", "Alte Möbel entsorgen")
    assert bulky.source == "https://www.musterstadt.example/abfall#sperrmuell"  # the row's own link
    organic = by_title["Wann wird die Biotonne geleert?"]
    assert organic.answer == "Alle zwei Wochen.\nDen Termin zeigt der Abfallkalender."
    assert organic.source == URL
    assert [(s.where, s.reason) for s in report.plan.skipped] == [
        ("row 4", "no_question"), ("row 5", "empty_answer"), ("row 6", "duplicate_question")]


def test_csv_column_mapping_by_name_and_number(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        'Key,Q Text,Body HTML,Page,Language\n'
        'pass-01,"Where do I renew my passport?","<p>At the <b>citizens\' office</b>.</p>",'
        'https://city.example/passport,EN\n'
        'kita,"Wie finde ich einen Kitaplatz?","Über das Kita-Portal.",https://city.example/kita,de-DE\n',
        encoding="utf-8")
    columns = ColumnMap(question="q text", answer="3", id="Key", source="page", lang="5")
    run_import(export, tmp_path / "kb", columns)
    kb = valid_kb(tmp_path / "kb")
    by_id = kb.by_id()
    assert set(by_id) == {"pass-01", "kita"}
    assert by_id["pass-01"].answer == "At the **citizens' office**." and by_id["pass-01"].lang == "en"
    assert by_id["pass-01"].source == "https://city.example/passport"
    assert by_id["kita"].lang == "de" and by_id["kita"].title == "Wie finde ich einen Kitaplatz?"


def test_missing_or_unknown_columns_name_the_columns_there_are(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("Titel;Beschreibung\nWas kostet ein Pass?;37 Euro.\n", encoding="utf-8")
    with pytest.raises(FaqImportError, match=r"no answer column .*1: Titel, 2: Beschreibung.*--answer-column"):
        run_import(export, tmp_path / "kb", source_url=URL)
    with pytest.raises(FaqImportError, match=r"--answer-column 'Antworten' is not a column"):
        run_import(export, tmp_path / "kb", ColumnMap(answer="Antworten"), source_url=URL)
    run_import(export, tmp_path / "kb", ColumnMap(answer="Beschreibung"), source_url=URL)
    assert answers(valid_kb(tmp_path / "kb")) == {"Was kostet ein Pass?": "37 Euro."}


def test_windows_1252_export_is_read_with_a_note(tmp_path: Path) -> None:
    export = tmp_path / "excel.csv"
    export.write_bytes("Frage;Antwort\nMuss ich mich ummelden?;Ja, binnen zwei Wochen – persönlich.\n"
                       .encode("cp1252"))
    report = run_import(export, tmp_path / "kb", source_url=URL)
    assert answers(valid_kb(tmp_path / "kb")) == {"Muss ich mich ummelden?": "Ja, binnen zwei Wochen – persönlich."}
    assert any("Windows-1252" in note for note in report.notes)


def test_header_only_csv_is_an_error(tmp_path: Path) -> None:
    export = tmp_path / "empty.csv"
    export.write_text("Frage;Antwort\n", encoding="utf-8")
    with pytest.raises(FaqImportError, match="no data rows"):
        run_import(export, tmp_path / "kb", source_url=URL)
    assert not (tmp_path / "kb").exists()


@pytest.mark.parametrize("shared", [True, False])
def test_xlsx_first_sheet_shared_rich_and_inline_strings(tmp_path: Path, shared: bool) -> None:
    workbook = tmp_path / "faq.xlsx"
    workbook.write_bytes(xlsx_bytes([
        ["ID", "Frage", "", "Antwort"],
        ["", "Wie lange ist ein Reisepass gültig?", "", "Zehn Jahre | , für Kinder sechs."],
        [],
        ["7", "Was kostet ein Führungszeugnis?", "", "13 Euro & bar"],
    ], shared=shared))
    report = run_import(workbook, tmp_path / "kb", source_url=URL)
    kb = valid_kb(tmp_path / "kb")
    assert report.kind == "XLSX file"
    assert answers(kb) == {"Wie lange ist ein Reisepass gültig?": "Zehn Jahre, für Kinder sechs."
                           if shared else "Zehn Jahre | , für Kinder sechs.",
                           "Was kostet ein Führungszeugnis?": "13 Euro & bar"}
    assert {e.id for e in kb.entries} == {"lange-reisepass-gueltig", "faq-7"}
    assert [e.where for e in report.plan.entries] == ["row 2", "row 4"]


def test_xlsx_that_is_not_a_workbook_or_declares_entities_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(FaqImportError, match="not a valid .xlsx"):
        run_import(broken, tmp_path / "kb", source_url=URL)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa">]>'
                         "<worksheet><sheetData><row><c t='inlineStr'><is><t>&a;</t></is></c></row></sheetData>"
                         "</worksheet>")
    bomb = tmp_path / "entities.xlsx"
    bomb.write_bytes(buffer.getvalue())
    with pytest.raises(FaqImportError, match="DOCTYPE"):
        run_import(bomb, tmp_path / "kb", source_url=URL)
    old = tmp_path / "faq.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(FaqImportError, match=r"save it as \.xlsx or CSV"):
        run_import(old, tmp_path / "kb", source_url=URL)
    assert not (tmp_path / "kb").exists()
