"""The managers' figures: workload and times per department and agent, reasons per week (bot.tickets.breakdown),
their tables and CSV (bot.web.analytics_tables), and the analytics page and CSV export over HTTP
(on SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, List
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.tickets import breakdown
from bot.tickets.breakdown import GroupFigures
from bot.web.analytics_tables import Table, csv_cell, html_cell, to_csv
from bot.web.deps import services_of
from tests.helpers.inbox import add_ticket, app_on_database, staff
from tests.helpers.postgres import DATABASES

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=timezone.utc)  # a Friday in ISO week 11
MIN, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


@pytest.fixture(params=DATABASES)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FastAPI]:
    """An app on a real database: SQLite, and PostgreSQL (a fresh database)."""
    with app_on_database(request.param, tmp_path) as made:
        yield made


def seed(app: FastAPI, now: datetime = NOW) -> None:
    """Tickets with known times: Bürgerservice (owner Bürgeramt) and Standesamt."""
    created = now - DAY
    add_ticket(app, "AK-AAAA-0001", created=created, first_reply_at=created + 10 * MIN, status="resolved",
               closed_at=created + 2 * HOUR, assignee="weber", reason="asked_for_human")
    created = now - 2 * DAY
    add_ticket(app, "AK-AAAA-0002", created=created, first_reply_at=created + 30 * MIN, status="resolved",
               closed_at=created + 4 * HOUR, assignee="weber")
    add_ticket(app, "AK-AAAA-0003", created=now - 3 * HOUR, first_reply_at=now - 3 * HOUR + 20 * MIN,
               status="in_progress", assignee="weber")
    add_ticket(app, "AK-AAAA-0004", created=now - HOUR, reason="no_candidates")  # new, unassigned, no reply
    add_ticket(app, "AK-AAAA-0005", created=now - 40 * DAY, first_reply_at=now - 40 * DAY + HOUR,
               status="resolved", closed_at=now - 35 * DAY, assignee="alt")  # before the period: no row
    created = now - 10 * DAY
    add_ticket(app, "AK-BBBB-0001", owner="Standesamt", created=created, first_reply_at=created + HOUR,
               status="waiting", assignee="schulz", reason="not_helpful")


def figures(groups: List[GroupFigures]) -> dict:
    return {g.key: g for g in groups}


def test_workload_and_times_per_department(app: FastAPI) -> None:
    seed(app)
    with services_of(app).sessions() as session:
        everything = figures(breakdown.per_department(session, None, days=14, now=NOW))
        week = figures(breakdown.per_department(session, None, days=7, now=NOW))
        mine = breakdown.per_department(session, ["buergerservice"], days=14, now=NOW)
    assert list(everything) == ["buergerservice", "standesamt"]
    bs = everything["buergerservice"]
    assert (bs.open, bs.in_progress, bs.resolved, bs.replied) == (1, 1, 2, 3)
    assert bs.reply_median == 20 * 60 and bs.reply_p90 == pytest.approx(28 * 60)  # 10, 20, 30 min
    assert bs.resolution_median == 3 * 3600 and bs.resolution_p90 == pytest.approx(3.8 * 3600)  # 2 h, 4 h
    sa = everything["standesamt"]
    assert (sa.open, sa.in_progress, sa.resolved, sa.replied, sa.reply_median) == (1, 0, 0, 1, 3600)
    assert sa.resolution_median is None
    assert week["standesamt"].replied == 0 and week["standesamt"].reply_median is None  # created 10 days ago
    assert week["standesamt"].open == 1  # still open now
    assert [g.key for g in mine] == ["buergerservice"]


def test_workload_per_agent_with_unassigned_last_and_a_filter(app: FastAPI) -> None:
    seed(app)
    with services_of(app).sessions() as session:
        agents = breakdown.per_agent(session, None, days=14, now=NOW)
        only = breakdown.per_agent(session, None, days=14, now=NOW, agents=["weber"])
        scoped = breakdown.per_agent(session, ["standesamt"], days=14, now=NOW)
    assert [g.key for g in agents] == ["schulz", "weber", None]  # "alt" resolved before the period: no row
    weber = figures(agents)["weber"]
    assert (weber.open, weber.in_progress, weber.resolved, weber.replied) == (0, 1, 2, 3)
    assert weber.resolution_median == 3 * 3600
    assert figures(agents)[None].open == 1 and figures(agents)[None].reply_median is None
    assert [g.key for g in only] == ["weber"] and [g.key for g in scoped] == ["schulz"]


def test_reasons_per_local_calendar_week(app: FastAPI) -> None:
    seed(app)
    add_ticket(app, "AK-AAAA-0006", created=datetime(2025, 3, 9, 23, 30, tzinfo=timezone.utc), reason="sonstiges")
    with services_of(app).sessions() as session:
        utc = breakdown.reasons_per_week(session, None, days=14, now=NOW)
        berlin = breakdown.reasons_per_week(session, None, days=14, now=NOW, tz=ZoneInfo("Europe/Berlin"))
        mine = breakdown.reasons_per_week(session, ["buergerservice"], days=7, now=NOW)
    assert [(w.iso_week, w.first.isoformat(), w.last.isoformat()) for w in utc] == [
        (9, "2025-03-01", "2025-03-02"), (10, "2025-03-03", "2025-03-09"), (11, "2025-03-10", "2025-03-14")]
    assert [w.total for w in utc] == [0, 2, 4]
    assert utc[1].reasons["not_helpful"] == 1 and utc[1].reasons["sonstiges"] == 1
    assert utc[2].reasons == {"low_confidence": 2, "asked_for_human": 1, "not_helpful": 0, "choices_rejected": 0,
                              "repeated_miss": 0, "no_candidates": 1}
    assert [w.total for w in berlin] == [0, 1, 5]  # 23:30 UTC on Sunday is Monday 00:30 in Berlin
    assert [(w.iso_week, w.first.isoformat(), w.total) for w in mine] == [(10, "2025-03-08", 1), (11, "2025-03-10", 4)]


def test_cells_for_page_and_german_excel() -> None:
    assert html_cell(None, "seconds") == "–" and html_cell(3900.0, "seconds") == "1 Std. 5 Min."
    assert html_cell(3, "count") == "3" and html_cell(None, "text") == "–"
    assert html_cell(4 * 86400 + 2.6 * 3600, "seconds") == "4 Tg. 3 Std."
    assert csv_cell(1530.0, "seconds") == "25,5" and csv_cell(None, "seconds") == "" and csv_cell(0, "count") == "0"
    for hostile in ("=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)"):
        assert csv_cell(hostile, "text") == "'" + hostile
    assert csv_cell("Frau Weber", "text") == "Frau Weber"


def test_csv_has_bom_semicolons_and_quotes_where_needed() -> None:
    table = Table("agents", "x", [("Mitarbeiter:in", "text"), ("Offen", "count"), ("Median", "seconds")],
                  [["Weber; Anna", 2, 90.0], ["=1+1", 0, None]])
    body = to_csv(table)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows == [["Mitarbeiter:in", "Offen", "Median"], ["Weber; Anna", "2", "1,5"], ["'=1+1", "0", ""]]


# --- over HTTP -------------------------------------------------------------------------------------------------


def seed_now(app: FastAPI) -> None:
    seed(app, datetime.now(timezone.utc))


def test_manager_page_shows_accessible_tables_for_the_chosen_period(app: FastAPI) -> None:
    seed_now(app)
    staff(app, "weber", "buergerservice")
    manager = staff(app, "chefin", manager=True)
    page = manager.get("/inbox/analytics?days=30").text
    assert "<title>Auswertung – Auskunft</title>" in page
    for key in ("departments", "agents", "reasons"):
        assert page.count(f'<table id="table-{key}">') == 1, key  # each table once, in the page's body
    assert '<a href="/inbox/analytics?days=30" aria-current="page">Letzte 30 Tage</a>' in page
    assert "Tickets der letzten 30 Tage: 5 Tickets insgesamt" in page
    for key in ("departments", "agents", "reasons"):
        assert f'<table id="table-{key}">' in page and f'href="/inbox/analytics.csv?days=30&amp;table={key}"' in page
    assert '<caption id="caption-agents">Arbeitslast und Zeiten je Mitarbeitenden, letzte 30 Tage</caption>' in page
    assert '<th scope="col">Erste Antwort: Median</th>' in page
    cells = re.search(r'<th scope="row">Frau Weber</th>(.*?)</tr>', page)
    assert cells is not None and re.findall(r'<td class="number">([^<]*)</td>', cells.group(1)) == [
        "0", "1", "2", "3", "20 Min.", "28 Min.", "3 Std. 0 Min.", "3 Std. 48 Min."]
    assert '<th scope="row">nicht zugewiesen</th>' in page and '<th scope="row">Standesamt</th>' in page
    assert "style=" not in page and "<rect" in page


def test_agent_sees_their_departments_and_only_their_own_row(app: FastAPI) -> None:
    seed_now(app)
    staff(app, "schulz", "standesamt")
    client = staff(app, "weber", "buergerservice")
    page = client.get("/inbox/analytics").text
    assert '<th scope="row">Frau Weber</th>' in page and "Frau Schulz" not in page
    assert '<th scope="row">Standesamt</th>' not in page and "nicht zugewiesen" not in page
    body = client.get("/inbox/analytics.csv?days=14&table=agents").content.decode("utf-8-sig")
    assert [row[0] for row in csv.reader(io.StringIO(body), delimiter=";")] == ["Name", "Frau Weber"]


def test_singular_when_one_ticket(app: FastAPI) -> None:
    add_ticket(app, "AK-AAAA-0001", created=datetime.now(timezone.utc) - HOUR)
    page = staff(app, "chefin", manager=True).get("/inbox/analytics?days=7").text
    assert "Tickets der letzten 7 Tage: 1 Ticket insgesamt" in page


def test_csv_export_for_managers_is_an_excel_download(app: FastAPI) -> None:
    seed_now(app)
    with services_of(app).sessions() as session:
        from bot.staff.auth import create_agent
        create_agent(session, "boese", "=HYPERLINK(\"http://x\")", "ein-langes-passwort-123", ["buergerservice"],
                     known=services_of(app).departments)
    add_ticket(app, "AK-AAAA-0009", created=datetime.now(timezone.utc) - HOUR, status="in_progress", assignee="boese")
    manager = staff(app, "chefin", manager=True)
    response = manager.get("/inbox/analytics.csv?days=90&table=agents")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="auswertung-agents-90-tage.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Name", "Offen (neu oder wartend)", "In Bearbeitung", "Erledigt im Zeitraum"]
    assert ["'=HYPERLINK(\"http://x\")", "0", "1", "0", "0", "", "", "", ""] in rows
    assert ["weber", "0", "1", "2", "3", "20,0", "28,0", "180,0", "228,0"] in rows  # no account: the user name
    departments = manager.get("/inbox/analytics.csv?table=departments").content.decode("utf-8-sig")
    assert departments.splitlines()[1].startswith("Bürgerservice;")
    reasons = manager.get("/inbox/analytics.csv?days=7&table=reasons").content.decode("utf-8-sig")
    assert reasons.splitlines()[0].startswith("Woche;Antwort zu unsicher;") and reasons.splitlines()[0].endswith(";Summe")


def test_bad_period_or_table_is_a_clear_4xx_and_anonymous_is_sent_to_login(app: FastAPI) -> None:
    manager = staff(app, "chefin", manager=True)
    response = manager.get("/inbox/analytics?days=8")
    assert response.status_code == 400 and "days=7, 14, 30 oder 90" in response.text
    assert manager.get("/inbox/analytics.csv?days=abc").status_code == 422
    response = manager.get("/inbox/analytics.csv?table=kunden")
    assert response.status_code == 400 and "table=departments, agents oder reasons" in response.text
    anonymous = TestClient(app).get("/inbox/analytics.csv?table=agents", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/inbox/login")
