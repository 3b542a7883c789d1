"""Editor pages at ``/inbox/editor``: ask as a citizen, the kb check report, FAQ analytics (server-rendered HTML).

Behind the inbox login (the cookie is limited to ``/inbox``); only editors and managers see them, other
agents get a 403 page. Nothing here changes state, so every page is a GET. The embedding model is loaded
into the web process only when an editor first needs it (:func:`searcher_for`); citizens never pay for it.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Dict, Optional, Tuple

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse

from bot.agencies import AGENCY_KEY, Agency, UnknownAgency
from bot.editor.check_report import ReportCache
from bot.editor.preview import preview
from bot.inbox.auth import can_edit
from bot.retrieval.searcher import FaqSearcher
from bot.retrieval.store import IndexStore
from bot.runtime_env import child_env
from bot.settings import PROJECT_ROOT, Settings
from bot.tickets.models import utcnow
from bot.web.routers.inbox_auth import CurrentLogin, Db, Login, render, templates

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

router = APIRouter(prefix="/inbox/editor", include_in_schema=False)
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
                 "handoff": "Weiterleitung an eine Mitarbeiterin oder einen Mitarbeiter"}
REASON_LABELS = {"confident": "Ein Eintrag passt sicher genug und deutlich besser als der nächste.",
                 "ambiguous": "Mehrere Einträge passen fast gleich gut.",
                 "uncertain": "Der beste Eintrag passt nicht sicher genug für eine direkte Antwort.",
                 "low_confidence": "Kein Eintrag passt gut genug.",
                 "no_candidates": "Es wurde kein Eintrag gefunden.",
                 "repeated_miss": "Mehrfach nicht verstanden.",
                 "withdrawn": "Der passende Eintrag ist überfällig (Überprüfungsdatum überschritten) und wird "
                              "zurückgehalten."}
_LOCK = threading.Lock()
_CHECKS = ReportCache()


def percent(share: Optional[float]) -> str:
    """A share as a German percentage (``72 %``, ``72,5 %``); ``–`` when there is none."""
    if share is None:
        return "–"
    value = round(share * 100, 1)
    text = f"{value:.0f}" if value == int(value) else f"{value:.1f}".replace(".", ",")
    return f"{text}\u00a0%"


templates.env.filters["prozent"] = percent


def searcher_for(request: Request, agency: Optional[Agency] = None) -> FaqSearcher:
    """The searcher the editor pages ask: over the agency's published index, created on first use, kept on the app.

    The one place that picks the index. Tests put a searcher over a fixed index in ``app.state.editor_searcher``
    to stay offline.

    Args:
        request: the request (its app holds settings, agencies and the searchers).
        agency: whose index; None is the default agency.

    Raises:
        OSError: the embedding model cannot be loaded (e.g. not provisioned).
    """
    state = request.app.state
    searcher: Optional[FaqSearcher] = getattr(state, "editor_searcher", None)
    if searcher is not None:
        return searcher
    agency = agency or state.agencies.default
    with _LOCK:
        searchers: Dict[str, FaqSearcher] = getattr(state, "editor_searchers", {})
        state.editor_searchers = searchers
        if agency.key not in searchers:
            from bot.embedding.encoder import shared_encoder

            settings: Settings = state.settings
            started = time.perf_counter()
            searchers[agency.key] = FaqSearcher(
                shared_encoder(settings.model_name, settings.torch_threads),
                store=IndexStore(agency.index_dir(settings.index_dir)), default_language=settings.default_language,
                load_encoder=lambda model: shared_encoder(model, settings.torch_threads))
            logger.info("editor pages: searcher for %s ready in %.1f s", agency.key, time.perf_counter() - started)
    return searchers[agency.key]


def agency_of(request: Request, key: str) -> Agency:
    """The agency an editor page is about (``?agency=``; none: the default agency).

    Raises:
        HTTPException: 404 for an agency this deployment does not serve.
    """
    try:
        return request.app.state.agencies.get(key or None)  # type: ignore[no-any-return]
    except UnknownAgency:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Unbekannte Behörde {key!r}") from None


def _agency_context(request: Request, agency: Agency) -> Dict[str, Any]:
    """What the layout needs to offer the agencies (only where the deployment serves several)."""
    agencies = request.app.state.agencies
    return {"agency": agency, "agency_options": [(a.key, a.name) for a in agencies] if len(agencies) > 1 else [],
            "agency_query": "" if agency.is_default else f"?agency={agency.key}"}


AgencyKey = Annotated[str, Query(alias="agency", max_length=40, regex=f"^$|{AGENCY_KEY.pattern}")]


def tracker_engine_for(request: Request) -> Optional["Engine"]:
    """Rasa's tracker database (read only), from ``endpoints.yml`` as the eraser reads it; kept on the app once found.

    None while there is none to read (not an SQL store, or its SQLite file does not exist yet: asked again next
    time) or when ``endpoints.yml`` cannot be used (logged); the analytics then count tickets only.
    """
    state = request.app.state
    engine: Optional["Engine"] = getattr(state, "editor_tracker_engine", None)
    if engine is not None:
        return engine
    from bot.editor.usage import tracker_engine

    settings: Settings = state.settings
    endpoints = settings.endpoints if settings.endpoints.startswith("/") else str(PROJECT_ROOT / settings.endpoints)
    try:
        engine = tracker_engine(Path(endpoints), child_env(settings))
    except (OSError, ValueError) as err:
        logger.warning("editor analytics: cannot read the tracker store (%s); counting tickets only", err)
        return None
    state.editor_tracker_engine = engine
    return engine


def _refused(request: Request, login: Login) -> Optional[HTMLResponse]:
    """A 403 page for agents who are neither editors nor managers; None for those who may see the pages."""
    if can_edit(login.agent):
        return None
    return render(request, "editor/forbidden.html", {"active": ""}, login, status_code=status.HTTP_403_FORBIDDEN)


def _unavailable(request: Request, login: Login, active: str, err: Exception) -> HTMLResponse:
    """No index published or no model: say so (503) instead of failing."""
    logger.warning("editor pages: %s", err)
    return render(request, "editor/unavailable.html", {"active": active, "problem": str(err)}, login,
                  status_code=status.HTTP_503_SERVICE_UNAVAILABLE)


@router.get("", response_class=HTMLResponse)
def preview_page(request: Request, login: CurrentLogin,
                 q: Annotated[str, Query(max_length=MAX_QUESTION)] = "",
                 lang: Annotated[str, Query(max_length=4)] = "auto", agency_key: AgencyKey = "") -> HTMLResponse:
    """Ask as a citizen: the bot's decision on a question, its candidates with scores and the answer."""
    if (refused := _refused(request, login)) is not None:
        return refused
    agency = agency_of(request, agency_key)
    lang = lang if lang in LANG_OPTIONS else "auto"
    context: Dict[str, Any] = {"active": "editor-preview", "q": q, "lang": lang, "lang_options": LANG_OPTIONS,
                               "max_question": MAX_QUESTION, "seen": None, **_agency_context(request, agency)}
    question = q.strip()
    if question:
        settings: Settings = request.app.state.settings
        try:
            searcher = searcher_for(request, agency)  # the first call loads the model (seconds)
            started = time.perf_counter()
            seen = preview(question, searcher, settings.decision_config(), settings.withdraw_overdue,
                           None if lang == "auto" else lang)
        except OSError as err:  # no index published yet, or no model
            return _unavailable(request, login, "editor-preview", err)
        context.update(seen=seen, ms=(time.perf_counter() - started) * 1000,
                       action_label=ACTION_LABELS.get(seen.action, seen.action),
                       reason_label=REASON_LABELS.get(seen.reason, seen.reason),
                       thresholds=settings.decision_config(), withdraw=settings.withdraw_overdue)
    return render(request, "editor/preview.html", context, login)


@router.get("/check", response_class=HTMLResponse)
def check_page(request: Request, login: CurrentLogin, agency_key: AgencyKey = "",
               layer: Annotated[int, Query(ge=0, le=20)] = 0) -> HTMLResponse:
    """The ``auskunft kb check`` report as a table per file: severity, place, owner, message, what to do.

    An agency with several kb layers is checked one layer at a time (``?layer=``; 0: its own, the last one).
    """
    if (refused := _refused(request, login)) is not None:
        return refused
    agency = agency_of(request, agency_key)
    layers = list(reversed(agency.layers))  # the agency's own layer first
    if layer >= len(layers):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{agency.key} has {len(layers)} kb layer(s)")
    report, cached = _CHECKS.report(layers[layer])
    context = {"active": "editor-check", "report": report, "cached": cached, "layer": layer,
               "layers": [path.name for path in layers] if len(layers) > 1 else [], **_agency_context(request, agency)}
    return render(request, "editor/check.html", context, login)


@router.get("/analytics", response_class=HTMLResponse)
def analytics_page(request: Request, login: CurrentLogin, db: Db,
                   days: Annotated[int, Query(ge=1, le=366)] = 30, agency_key: AgencyKey = "") -> HTMLResponse:
    """Containment rate, the most common missing topics and use and feedback per FAQ entry (of one agency)."""
    if (refused := _refused(request, login)) is not None:
        return refused
    from bot.editor.usage import editor_analytics

    agency = agency_of(request, agency_key)
    several = len(request.app.state.agencies) > 1
    try:
        searcher = searcher_for(request, agency)
        index = searcher.index()
        encoder = searcher.encoder_for(index)
    except OSError as err:  # no index published yet, or no model
        return _unavailable(request, login, "editor-analytics", err)
    engine = tracker_engine_for(request)
    cache: Dict[Tuple[int, str, bool, str], Tuple[float, datetime, Any]] = getattr(
        request.app.state, "editor_analytics_cache", {})
    request.app.state.editor_analytics_cache = cache
    key, now = (days, index.version, engine is None, agency.key), time.monotonic()
    if key in cache and now - cache[key][0] < ANALYTICS_SECONDS:
        _, computed_at, figures = cache[key]
    else:  # embeds every unanswered question: about 6 s for 460 of them on one CPU thread
        computed_at, figures = utcnow(), editor_analytics(
            engine, db, index, encoder, days=days, agency=agency.key if several else None,
            default_agency=request.app.state.agencies.default.key)
        cache.clear()
        cache[key] = (now, computed_at, figures)
    settings: Settings = request.app.state.settings
    context = {"active": "editor-analytics", "figures": figures, "days": days, "day_options": DAY_OPTIONS,
               "near": settings.answer_threshold * NEAR_SHARE, "no_log": engine is None, "computed_at": computed_at,
               **_agency_context(request, agency)}
    return render(request, "editor/analytics.html", context, login)
