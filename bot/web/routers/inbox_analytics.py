"""The inbox's analytics at ``/inbox/analytics``: totals, times, backlog, reasons and the managers' tables, with CSV.

Scoped like the queue: managers see all departments and every agent; agents see their departments' tickets and,
in the per-agent table, only their own row. The period is ``?days=`` 7, 14, 30 or 90 (links; no JavaScript).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Dict, List, Optional

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from bot.staff.auth import list_agents
from bot.tickets import analytics, breakdown
from bot.web.analytics_tables import (
    PERIODS,
    TABLES,
    Table,
    agents_table,
    departments_table,
    html_cell,
    reasons_table,
    to_csv,
)
from bot.web.deps import services_of
from bot.web.routers.inbox import REASON_LABELS
from bot.web.routers.inbox_auth import CurrentLogin, Db, Login, departments_of, local_tz, render
from bot.web.wording import duration

router = APIRouter(prefix="/inbox", include_in_schema=False)
CHART_WIDTH, CHART_HEIGHT = 616, 160
Days = Annotated[int, Query(description="Zeitraum in Tagen: 7, 14, 30 oder 90")]


def _period(days: int) -> int:
    if days not in PERIODS:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail=f"Unbekannter Zeitraum {days}: bitte days=7, 14, 30 oder 90 angeben.")
    return days


def _tables(request: Request, login: Login, db: Session, days: int) -> Dict[str, Table]:
    """The three managers' tables for the login's scope."""
    tz, scope = local_tz(request), login.tickets
    names = departments_of(request)
    department_names: Dict[Optional[str], str] = {None: "ohne Abteilung"}
    department_names.update({key: names.name(key) for key in names.keys()})
    agent_names: Dict[Optional[str], str] = {None: "nicht zugewiesen"}
    agent_names.update({a.username: a.display_name for a in list_agents(db)})
    only = None if login.agent.is_manager else [login.agent.username]
    return {
        "departments": departments_table(breakdown.per_department(db, scope, days, tz=tz), department_names, days),
        "agents": agents_table(breakdown.per_agent(db, scope, days, tz=tz, agents=only), agent_names, days),
        "reasons": reasons_table(breakdown.reasons_per_week(db, scope, days, tz=tz), REASON_LABELS, days),
    }


def _bars(counts: List[int], labels: List[str]) -> List[Dict[str, Any]]:
    """Bars of the per-day chart, fitted into the chart's width; every n-th day labelled when there are many."""
    peak, slot = max(counts + [1]), max(6, CHART_WIDTH // max(1, len(counts)))
    width, every = max(4, slot - max(2, slot // 5)), math.ceil(len(counts) / 14)
    return [{"x": i * slot, "width": width, "height": round(c / peak * CHART_HEIGHT),
             "y": 20 + CHART_HEIGHT - round(c / peak * CHART_HEIGHT), "count": c if slot >= 20 else None,
             "label": label if i % every == 0 else ""} for i, (c, label) in enumerate(zip(counts, labels, strict=True))]


def _agency_names(request: Request, login: Login) -> str:
    """The agencies the figures are about, where the account works for some agencies only ('' otherwise)."""
    if login.agencies is None:
        return ""
    names = {a.key: a.name for a in services_of(request.app).agencies}
    return ", ".join(names.get(key, key) for key in login.agencies)


@router.get("/analytics", response_class=HTMLResponse)
def analytics_page(request: Request, login: CurrentLogin, db: Db, days: Days = 14) -> HTMLResponse:
    """Volume, time to first reply, backlog, handoff reasons and the tables per department, agent and week."""
    days = _period(days)
    names = departments_of(request)
    figures = analytics.overview(db, login.tickets, days=days, tz=local_tz(request))
    bars = _bars([d.count for d in figures.per_day], [d.day.strftime("%d.%m.") for d in figures.per_day])
    context = {"active": "analytics", "figures": figures, "bars": bars,
               "chart_width": len(bars) * (bars[1]["x"] if len(bars) > 1 else CHART_WIDTH),
               "chart_height": CHART_HEIGHT + 50, "baseline": 20 + CHART_HEIGHT,
               "median": duration(figures.reply_times.median_seconds),
               "p90": duration(figures.reply_times.p90_seconds),
               "reasons": [(REASON_LABELS.get(k, k), v) for k, v in figures.reasons.items()],
               "scope": "alle" if login.scope is None else ", ".join(names.name(k) for k in login.scope),
               "agency_scope": _agency_names(request, login),
               "periods": PERIODS, "tables": _tables(request, login, db, days), "cell": html_cell}
    return render(request, "inbox/analytics.html", context, login)


@router.get("/analytics.csv")
def analytics_csv(request: Request, login: CurrentLogin, db: Db, days: Days = 14,
                  table: Annotated[str, Query(max_length=20)] = "departments") -> Response:
    """One table as a CSV download for German Excel (``;``, UTF-8 with BOM), scoped like the page."""
    days = _period(days)
    if table not in TABLES:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail="Unbekannte Tabelle: bitte table=departments, agents oder reasons angeben.")
    body = to_csv(_tables(request, login, db, days)[table])
    filename = f"auswertung-{table}-{days}-tage.csv"
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
