"""The check report page filtered and grouped by severity, code, owner and folder (bot/editor/check_filter.py and
``/inbox/editor/check?…``), on the purpose-built broken kb."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Iterator

import pytest
from fastapi import FastAPI

from bot.config.settings import Settings
from bot.editor.check_filter import ReportFilter, code_counts, filter_report, folder_of
from bot.editor.check_report import CheckReport, build_report
from bot.staff import passwords
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.conftest import ROOT
from tests.helpers.inbox import staff
from tests.helpers.ticket_api import TOKEN

BROKEN_KB = ROOT / "tests" / "fixtures" / "broken_kb"


@pytest.fixture(scope="module")
def report() -> CheckReport:
    return build_report(BROKEN_KB, date(2026, 11, 23))


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    monkeypatch.setattr(passwords, "N", 2**10)
    settings = Settings(home=tmp_path / "home", api_token=TOKEN, kb_dir=BROKEN_KB,
                        database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}")
    app = create_app(settings)
    yield app
    services_of(app).close()


def test_without_a_filter_every_finding_is_shown_by_file(report: CheckReport) -> None:
    view = filter_report(report, ReportFilter())
    assert view.shown == view.total == report.errors + report.warnings + report.infos
    assert [g.key for g in view.groups] == sorted(g.key for g in view.groups)
    links = next(g for g in view.groups if g.key == "links/kaputte-links.md")
    assert links.errors == 5 and links.label == "links/kaputte-links.md"


def test_counts_per_code_put_errors_first_and_name_the_files(report: CheckReport) -> None:
    counts = code_counts([row for group in report.groups for row in group.rows])
    severities = [c.severity for c in counts]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    malformed = next(c for c in counts if c.code == "link_malformed")
    assert (malformed.count, malformed.files, malformed.severity_label) == (3, 1, "Fehler")
    assert sum(c.count for c in counts) == report.errors + report.warnings + report.infos


def test_filters_combine_and_groupings_change_the_headings(report: CheckReport) -> None:
    errors = filter_report(report, ReportFilter(severity="error", group="code"))
    assert errors.shown == report.errors and all(r.severity == "error" for g in errors.groups for r in g.rows)
    assert errors.total > errors.shown and "link_malformed" in [g.label for g in errors.groups]
    links = filter_report(report, ReportFilter(folder="links", severity="warning"))
    assert {r.code for g in links.groups for r in g.rows} == {"source_http", "link_http"}
    by_folder = filter_report(report, ReportFilter(group="folder"))
    assert "links" in [g.label for g in by_folder.groups] and "links" in by_folder.folders
    by_severity = filter_report(report, ReportFilter(group="severity"))
    assert [g.label for g in by_severity.groups] == ["Fehler", "Warnung", "Hinweis"]
    nobody = filter_report(report, ReportFilter(owner="Gibt es nicht"))
    assert nobody.groups == [] and nobody.shown == 0


def test_folder_and_query_string() -> None:
    row = build_report(BROKEN_KB, date(2026, 11, 23)).groups[0].rows[0]
    assert folder_of(row) == row.path.rpartition("/")[0]
    chosen = ReportFilter(severity="error", owner="Bürgeramt & Co")
    assert chosen.query() == "severity=error&owner=B%C3%BCrgeramt+%26+Co"
    assert chosen.query(code="placeholder", group="owner") == \
        "severity=error&code=placeholder&owner=B%C3%BCrgeramt+%26+Co&group=owner"
    assert ReportFilter().query() == "" and ReportFilter(group="file").query() == ""


def test_the_page_filters_by_query_parameters_without_javascript(app: FastAPI) -> None:
    client = staff(app, "redaktion", editor=True)
    full = client.get("/inbox/editor/check").text
    assert 'id="h-codes"' in full and '<a href="/inbox/editor/check?code=link_malformed"><code>link_malformed</code>' \
        in full
    total = int(re.search(r'id="shown" role="status">(\d+) von (\d+)', full).group(1))  # type: ignore[union-attr]
    page = client.get("/inbox/editor/check", params={"severity": "error", "folder": "links", "group": "code"})
    text = page.text
    assert page.status_code == 200 and "<code>links/kaputte-links.md:18</code>" in text
    shown = re.search(r'id="shown" role="status">(\d+) von (\d+) Befunden \(gefiltert\)', text)
    assert shown and int(shown.group(1)) == 5 and int(shown.group(2)) == total
    assert "Warnung</span>" not in text.split('id="h-befunde"')[1] and "Befunde nach Meldung (Code)" in text
    assert '<option value="error" selected>Fehler</option>' in text and "Filter zurücksetzen" in text
    assert "<code>review/ueberfaellig.md:9</code>" not in text
    empty = client.get("/inbox/editor/check", params={"owner": "<b>Niemand</b>"}).text
    assert "Keine Befunde für diese Auswahl." in empty and "<b>Niemand</b>" not in empty
    assert "&lt;b&gt;Niemand&lt;/b&gt;" in empty


def test_bad_filter_values_are_a_clear_4xx(app: FastAPI) -> None:
    client = staff(app, "redaktion", editor=True)
    assert client.get("/inbox/editor/check", params={"severity": "fatal"}).status_code == 422
    assert client.get("/inbox/editor/check", params={"group": "<x>"}).status_code == 422
    assert client.get("/inbox/editor/check", params={"code": "x" * 61}).status_code == 422


def test_findings_of_a_valid_file_link_to_its_form(app: FastAPI) -> None:
    text = staff(app, "redaktion", editor=True).get("/inbox/editor/check", params={"folder": "review"}).text
    assert '<code>review/ueberfaellig.md:9</code><br><a href="/inbox/editor/entries/' in text
    assert "Bearbeiten<span class=\"visually-hidden\">: review/ueberfaellig.md</span></a>" in text
    invalid = staff(app, "lektor", editor=True).get("/inbox/editor/check", params={"folder": "schema"}).text
    assert "<code>schema/leere-antwort.md:16</code></th>" in invalid  # the loader rejects it: no form to open

