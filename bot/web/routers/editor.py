"""Editor pages at ``/inbox/editor``: ask as a citizen, the kb check report, FAQ analytics (server-rendered HTML).

Behind the inbox login (the cookie is limited to ``/inbox``); only editors and managers see them, other
agents get a 403 page. Nothing here changes state, so every page is a GET. The embedding model is loaded
into the web process only when an editor first needs it (:meth:`bot.web.editor_state.EditorResources.searcher`);
citizens never pay for it.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any, Dict, Optional
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse

from bot.calibration import thresholds_for
from bot.editor.check_filter import GROUPINGS, SEVERITY_LABELS, ReportFilter, filter_report
from bot.editor.check_report import ReportCache
from bot.editor.entry_store import entries_of
from bot.editor.preview import preview
from bot.kb.loader import scan_kb
from bot.tickets.models import utcnow
from bot.web.deps import AgenciesDep, AnalyticsCacheDep, SearcherForDep, SettingsDep, TrackerEngineDep
from bot.web.markdown import render_markdown
from bot.web.routers import editor_entries, editor_review
from bot.web.routers.editor_access import AgencyKey, agency_context, agency_of
from bot.web.routers.inbox_access import editor_gate
from bot.web.routers.inbox_auth import CurrentLogin, Db, Login, render, templates

router = APIRouter(prefix="/inbox/editor", include_in_schema=False,
                   dependencies=[Depends(editor_gate)])  # role and agency of every editor route, sub-routers too
router.include_router(editor_entries.router)  # /inbox/editor/entries: FAQ editing in the browser
router.include_router(editor_review.router)  # /inbox/editor/review: the review queue (AUSKUNFT_EDITOR_REVIEW)
logger = logging.getLogger(__name__)
MAX_QUESTION = 2000
DAY_OPTIONS = (7, 30, 90)
# A missing topic whose nearest entry scores at least this share of the answer threshold is suggested as a new
# phrasing of that entry, else as a new entry. Measured with the default model on the sample kb's dev and test
# questions the bot did not answer (109): at >= 0.8 x 0.395 the nearest entry was the right one for 27 of 52,
# below for 4 of 57; the clarify threshold (0.138) would call 105 questions "near" with 31 right.
NEAR_SHARE = 0.8
ANALYTICS_SECONDS = 60.0  # the analytics of one period are computed at most once a minute
LANG_OPTIONS = {"auto": "Automatisch erkennen", "de": "Deutsch", "en": "Englisch"}
ACTION_LABELS = {"answer": "Antwort", "clarify": "Rückfrage mit Auswahl",
                 "handoff": "Weiterleitung an eine Mitarbeiterin oder einen Mitarbeiter",
                 "rephrase": "Bitte um eine neue Formulierung (mit Weg zu einem Menschen)",
                 "smalltalk": "Gesprächsantwort (Begrüßung, Dank, …)"}
REASON_LABELS = {"confident": "Ein Eintrag passt sicher genug und deutlich besser als der nächste.",
                 "ambiguous": "Mehrere Einträge passen fast gleich gut.",
                 "uncertain": "Der beste Eintrag passt nicht sicher genug für eine direkte Antwort.",
                 "low_confidence": "Kein Eintrag passt gut genug.",
                 "no_candidates": "Es wurde kein Eintrag gefunden.",
                 "repeated_miss": "Mehrfach nicht verstanden.",
                 "withdrawn": "Der passende Eintrag ist überfällig (Überprüfungsdatum überschritten) und wird "
                              "zurückgehalten.",
                 "not_understood": "Die Nachricht enthält keine erkennbaren Wörter (nur Zeichen, Tastenfolgen, "
                                   "Wiederholungen).",
                 "greet": "Begrüßung", "goodbye": "Verabschiedung", "thanks": "Dank",
                 "bot_challenge": "Frage, ob hier ein Mensch antwortet", "affirm": "Zustimmung",
                 "deny": "Ablehnung", "asked_for_human": "Die Person möchte mit einem Menschen sprechen."}
_CHECKS = ReportCache()


def percent(share: Optional[float]) -> str:
    """A share as a German percentage (``72 %``, ``72,5 %``); ``–`` when there is none."""
    if share is None:
        return "–"
    value = round(share * 100, 1)
    text = f"{value:.0f}" if value == int(value) else f"{value:.1f}".replace(".", ",")
    return f"{text}\u00a0%"


templates.env.filters["prozent"] = percent
templates.env.filters["markdown"] = render_markdown  # answers as the widget shows them (the inbox uses it too)


_agency_context = agency_context  # the names the suggestions router imports


def _unavailable(request: Request, login: Login, active: str, err: Exception) -> HTMLResponse:
    """No index published or no model: say so (503) instead of failing."""
    logger.warning("editor pages: %s", err)
    return render(request, "editor/unavailable.html", {"active": active, "problem": str(err)}, login,
                  status_code=status.HTTP_503_SERVICE_UNAVAILABLE)


@router.get("", response_class=HTMLResponse)
def preview_page(request: Request, login: CurrentLogin, settings: SettingsDep, agencies: AgenciesDep,
                 searcher_for: SearcherForDep, q: Annotated[str, Query(max_length=MAX_QUESTION)] = "",
                 lang: Annotated[str, Query(max_length=4)] = "auto", agency_key: AgencyKey = "") -> HTMLResponse:
    """Ask as a citizen: the bot's decision on a question, its candidates with scores and the answer."""
    agency = agency_of(agencies, agency_key)
    lang = lang if lang in LANG_OPTIONS else "auto"
    context: Dict[str, Any] = {"active": "editor-preview", "q": q, "lang": lang, "lang_options": LANG_OPTIONS,
                               "max_question": MAX_QUESTION, "seen": None, **_agency_context(agencies, agency)}
    question = q.strip()
    if question:
        try:
            searcher = searcher_for(agency)  # the first call loads the model (seconds)
            started = time.perf_counter()
            thresholds = thresholds_for(settings, searcher.index().meta)
            seen = preview(question, searcher, thresholds, settings.withdraw_overdue,
                           None if lang == "auto" else lang)
        except OSError as err:  # no index published yet, or no model
            return _unavailable(request, login, "editor-preview", err)
        context.update(seen=seen, ms=(time.perf_counter() - started) * 1000,
                       action_label=ACTION_LABELS.get(seen.action, seen.action),
                       reason_label=REASON_LABELS.get(seen.reason, seen.reason),
                       thresholds=thresholds, withdraw=settings.withdraw_overdue)
    return render(request, "editor/preview.html", context, login)


@router.get("/check", response_class=HTMLResponse)
def check_page(request: Request, login: CurrentLogin, agencies: AgenciesDep, agency_key: AgencyKey = "",
               layer: Annotated[int, Query(ge=0, le=20)] = 0,
               severity: Annotated[str, Query(regex="^(|error|warning|info)$")] = "",
               code: Annotated[str, Query(max_length=60)] = "", owner: Annotated[str, Query(max_length=200)] = "",
               folder: Annotated[str, Query(max_length=300)] = "",
               group: Annotated[str, Query(regex="^(|" + "|".join(GROUPINGS) + ")$")] = "") -> HTMLResponse:
    """The ``auskunft kb check`` report: counts per code, then the findings filtered and grouped as chosen.

    Filters and grouping are query parameters (``severity``, ``code``, ``owner``, ``folder``, ``group``), so the
    page works without JavaScript. An agency with several kb layers is checked one layer at a time (``?layer=``;
    0: its own, the last one).
    """
    agency = agency_of(agencies, agency_key)
    layers = list(reversed(agency.layers))  # the agency's own layer first
    if layer >= len(layers):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{agency.key} has {len(layers)} kb layer(s)")
    report, cached = _CHECKS.report(layers[layer])
    chosen = ReportFilter(severity, code, owner, folder, group or "file")
    context = {"active": "editor-check", "report": report, "cached": cached, "layer": layer, "chosen": chosen,
               "view": filter_report(report, chosen), "groupings": GROUPINGS, "severity_labels": SEVERITY_LABELS,
               "fixed": urlencode([*([("agency", agency.key)] if not agency.is_default else []),
                                   *([("layer", str(layer))] if layer else [])]),
               "layers": [path.name for path in layers] if len(layers) > 1 else [], **_agency_context(agencies, agency),
               "entry_ids": {item.entry.path: item.entry.id for item in scan_kb(layers[layer])[0]}
               if layers[layer].is_dir() else {}}  # each valid file's id: its findings link to the entry's form
    return render(request, "editor/check.html", context, login)


@router.get("/analytics", response_class=HTMLResponse)
def analytics_page(request: Request, login: CurrentLogin, db: Db, settings: SettingsDep, agencies: AgenciesDep,
                   searcher_for: SearcherForDep, engine: TrackerEngineDep, cache: AnalyticsCacheDep,
                   days: Annotated[int, Query(ge=1, le=366)] = 30, agency_key: AgencyKey = "") -> HTMLResponse:
    """Containment rate, the most common missing topics and use and feedback per FAQ entry (of one agency)."""
    from bot.editor.usage import editor_analytics

    agency = agency_of(agencies, agency_key)
    several = len(agencies) > 1
    try:
        searcher = searcher_for(agency)
        index = searcher.index()
        encoder = searcher.encoder_for(index)
    except OSError as err:  # no index published yet, or no model
        return _unavailable(request, login, "editor-analytics", err)
    key, now = (days, index.version, engine is None, agency.key), time.monotonic()
    if key in cache and now - cache[key][0] < ANALYTICS_SECONDS:
        _, computed_at, figures = cache[key]
    else:  # embeds every unanswered question: about 6 s for 460 of them on one CPU thread
        computed_at, figures = utcnow(), editor_analytics(
            engine, db, index, encoder, days=days, agency=agency.key if several else None,
            default_agency=agencies.default.key)
        cache.clear()
        cache[key] = (now, computed_at, figures)
    choices = sorted(((e.id, e.title) for e, _ in entries_of(agency.layers)), key=lambda c: (c[1].casefold(), c[0]))
    context = {"active": "editor-analytics", "figures": figures, "days": days, "day_options": DAY_OPTIONS,
               "entry_choices": choices,
               "near": settings.answer_threshold * NEAR_SHARE, "no_log": engine is None, "computed_at": computed_at,
               **_agency_context(agencies, agency)}
    return render(request, "editor/analytics.html", context, login)
