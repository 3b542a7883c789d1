"""Placeholder text in kb entries (bot/kb/placeholders.py) and the ``placeholder`` error of ``auskunft kb check``."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from bot.kb.check import check_kb, run_check
from bot.kb.placeholders import find_placeholders

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(("text", "found"), [
    ("Kosten: **ca. 30 €** [Platzhalter].", ["[Platzhalter]"]),
    ("[Platzhalter: Gebühr prüfen] und [placeholder] und [TBD]", ["[Platzhalter: Gebühr prüfen]", "[placeholder]",
                                                                  "[TBD]"]),
    ("TODO: Öffnungszeiten. FIXME", ["TODO", "FIXME"]),
    ("IBAN DE00 XXXX XXXX", ["XXXX", "XXXX"]),
    ("Lorem ipsum dolor sit amet", ["Lorem ipsum"]),
    ("[Termin](https://www.example.com/termin) oder info@example.org", ["www.example.com", "example.org"]),
    ("Details: example.de/gebuehren", ["example.de"]),
])
def test_placeholders_are_found(text: str, found: list) -> None:
    assert [p.text for p in find_placeholders(text)] == found


@pytest.mark.parametrize("text", [
    "Die To-do-Liste und todo in kleinen Buchstaben", "XX oder XXX-Nummer", "https://musterstadt.example/termin",
    "Zum Beispiel: for example. The next", "https://www.service-bw.de/example", "counterexample.com",
    "exampleish.com", "",
])
def test_ordinary_text_is_no_placeholder(text: str) -> None:
    assert find_placeholders(text) == []


def test_a_placeholder_knows_its_line() -> None:
    text = "Erste Zeile.\n\nKosten: TODO"
    (mark,) = find_placeholders(text)
    assert mark.line_in(text) == 2 and mark.kind == "marker"


ENTRY = """---
id: gebuehr
title: Was kostet das? TODO
questions:
  - Wie teuer ist es?
  - Preis bei example.com?
lang: de
source: https://www.example.org/gebuehr
owner: Bürgeramt
updated: 2026-11-01
review_by: 2027-05-01
plain: |
  Es kostet [Platzhalter].
---
Die Gebühr beträgt 10 €.

Sie zahlen bar [Platzhalter].
"""


def test_kb_check_reports_each_placeholder_as_an_error_with_line_and_field(tmp_path: Path) -> None:
    (tmp_path / "gebuehr.md").write_text(ENTRY, encoding="utf-8")
    result = check_kb(tmp_path, today=TODAY)
    found = sorted((f.line, f.field, f.params["text"]) for f in result.findings if f.code == "placeholder")
    assert found == [(3, "title", "TODO"), (6, "questions", "example.com"), (8, "source", "www.example.org"),
                     (12, "plain", "[Platzhalter]"), (17, "answer", "[Platzhalter]")]
    assert all(f.severity == "error" and f.owner == "Bürgeramt" for f in result.findings if f.code == "placeholder")
    finding = next(f for f in result.findings if f.field == "answer" and f.code == "placeholder")
    assert "darf so nicht veröffentlicht werden" in finding.message("de") and "Ersetzen" in finding.hint("de")
    assert "must not be published" in finding.message("en")
    out = io.StringIO()
    assert run_check(tmp_path, today=TODAY, out=out) == 1  # an error: kb check exits non-zero
    assert "gebuehr.md:17: Fehler [placeholder]" in out.getvalue()


def test_an_entry_without_placeholders_passes(tmp_path: Path) -> None:
    clean = ENTRY.replace(" TODO", "").replace("example.com", "Internet").replace("www.example.org", "www.stadt.de")
    (tmp_path / "gebuehr.md").write_text(clean.replace(" [Platzhalter]", " 10 €"), encoding="utf-8")
    assert not [f for f in check_kb(tmp_path, today=TODAY).findings if f.code == "placeholder"]
