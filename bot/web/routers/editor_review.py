"""The editors' review queue at ``/inbox/editor/review``: open drafts with their diff, approve, reject, withdraw.

A thin adapter over :mod:`bot.editor.review_queue` (the rules: a second editor approves, the author withdraws, a
changed file refuses the approval). Drafts are made by the entry form when ``AUSKUNFT_EDITOR_REVIEW`` is on
(:mod:`bot.web.routers.editor_entries`). Approval writes and commits the file like a direct save, with the author as
git author and the approving editor as committer; the kb watcher then publishes the new index.
"""

from __future__ import annotations

from typing import Annotated, Any, Dict, Optional
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config.agencies import Agency
from bot.editor import review_queue as queue
from bot.editor.entry_check import EntryCheck
from bot.editor.entry_store import EntrySaveError, Saved
from bot.staff.models import Agent, KbDraft
from bot.suggestions.git_commit import commit_file, editor_identity
from bot.web.deps import AgenciesDep, services_of
from bot.web.routers.editor_access import AgencyKey, agency_context, agency_of
from bot.web.routers.inbox_auth import CheckedLogin, CurrentLogin, Db, Login, render, templates

router = APIRouter(prefix="/review", include_in_schema=False)  # under the editor router: /inbox/editor/review
AgencyForm = Annotated[str, Form(alias="agency", max_length=40)]
FLASH = {"eingereicht": "Ihr Entwurf ist eingereicht. Sobald eine zweite Person aus der Redaktion ihn freigibt, "
                        "wird die Datei geschrieben und der Assistent antwortet mit der neuen Fassung.",
         "freigegeben": "Freigegeben und gespeichert. Der Assistent beantwortet Fragen mit der neuen Fassung, sobald "
                        "der Suchindex neu aufgebaut ist (wenige Sekunden).",
         "abgelehnt": "Der Entwurf ist abgelehnt; die Verfasserin oder der Verfasser sieht Ihren Hinweis hier.",
         "zurueckgezogen": "Der Entwurf ist zurückgezogen."}


def review_on(request: Request) -> bool:
    """Whether this deployment sends the entry form's saves through the review queue (for the navigation)."""
    return bool(services_of(request.app).settings.editor_review)


templates.env.globals["review_on"] = review_on


def _query(agency: Agency, **more: str) -> str:
    pairs = ([("agency", agency.key)] if not agency.is_default else []) + [(k, v) for k, v in more.items() if v]
    return f"?{urlencode(pairs)}" if pairs else ""


def _names(db: Session) -> Dict[str, str]:
    """User name -> display name of every account (drafts show who proposed and who decided)."""
    return {a.username: a.display_name for a in db.execute(select(Agent)).scalars()}


def _draft(db: Session, agency: Agency, draft_id: int) -> KbDraft:
    try:
        return queue.get_draft(db, draft_id, agency.key)
    except queue.DraftNotFound as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(err)) from None


@router.get("", response_class=HTMLResponse)
def review_list(request: Request, login: CurrentLogin, db: Db, agencies: AgenciesDep, agency_key: AgencyKey = "",
                meldung: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    """The agency's open drafts (with what they change) and the latest decisions."""
    agency = agency_of(agencies, agency_key)
    rows = []
    for draft in queue.open_drafts(db, agency.key):
        layer = queue.target_layer(agency.layers, draft.path, draft.base_sha)
        rows.append({"draft": draft, "stale": queue.stale(draft, layer), "new": not draft.base_sha})
    context = {"active": "editor-review", "rows": rows, "history": queue.decided_drafts(db, agency.key),
               "names": _names(db), "labels": queue.STATUS_LABELS, "query": _query(agency),
               "notice": FLASH.get(meldung, ""), **agency_context(agencies, agency)}
    return render(request, "editor/review.html", context, login)


@router.get("/{draft_id}", response_class=HTMLResponse)
def draft_page(draft_id: int, request: Request, login: CurrentLogin, db: Db, agencies: AgenciesDep,
               agency_key: AgencyKey = "", meldung: Annotated[str, Query(max_length=20)] = "",
               commit: Annotated[str, Query(max_length=40, regex="^[0-9a-f]*$")] = "") -> HTMLResponse:
    """One draft: who proposed it, the diff against the current file, the check, and the actions."""
    agency = agency_of(agencies, agency_key)
    flash = FLASH.get(meldung, "")
    if flash and commit:
        flash += f" Git-Commit {commit[:10]}."
    return _page(request, login, db, agencies, agency, _draft(db, agency, draft_id), notice=flash)


def _page(request: Request, login: Login, db: Session, agencies: Any, agency: Agency, draft: KbDraft, *,
          notice: str = "", failure: str = "", failed: Optional[EntryCheck] = None, note: str = "",
          status_code: int = 200) -> HTMLResponse:
    layer = queue.target_layer(agency.layers, draft.path, draft.base_sha)
    current = queue.current_text(draft, layer)
    base = current if draft.status == queue.DRAFT else ""
    proposed = queue.check_draft(draft, layer) if draft.status == queue.DRAFT else None
    existing = queue.check_draft(_as_current(draft, current), layer) if base else None
    context = {"active": "editor-review", "draft": draft, "names": _names(db), "labels": queue.STATUS_LABELS,
               "diff": queue.diff_lines(base, draft.content) if draft.status == queue.DRAFT else [],
               "fields": queue.changed_fields(existing, proposed) if proposed is not None else (),
               "check": failed or proposed, "entry": proposed.parsed.entry if proposed and proposed.parsed else None,
               "stale": draft.status == queue.DRAFT and queue.stale(draft, layer), "own": draft.author ==
               login.agent.username, "query": _query(agency), "notice": notice, "failure": failure, "note": note,
               **agency_context(agencies, agency)}
    return render(request, "editor/review_draft.html", context, login, status_code=status_code)


def _as_current(draft: KbDraft, text: str) -> KbDraft:
    """A transient copy of ``draft`` holding the current file, to parse it with the same check."""
    return KbDraft(agency=draft.agency, path=draft.path, content=text, base_sha=draft.base_sha, author=draft.author)


def _commit(login: Login, draft: KbDraft, db: Session) -> Any:
    """The git commit of an approved draft: the author's change, committed by the approving editor."""
    author = db.execute(select(Agent).where(Agent.username == draft.author)).scalar_one_or_none()
    name, email = editor_identity(draft.author, author.display_name if author is not None else draft.author,
                                  getattr(author, "email", None))
    committer = editor_identity(login.agent.username, login.agent.display_name, getattr(login.agent, "email", None))
    verb = "bearbeitet" if draft.base_sha else "angelegt"
    message = (f"kb: {draft.path} im Browser {verb} (Entwurf Nr. {draft.id}, freigegeben von "
               f"{login.agent.username})")
    return lambda written: commit_file(written, message, name, email, committer)


@router.post("/{draft_id}/approve")
def approve(draft_id: int, request: Request, login: CheckedLogin, db: Db, agencies: AgenciesDep,
            agency_key: AgencyForm = "") -> Response:
    """Write the draft's file (checked, against its base version) and mark it approved; refused for its author."""
    agency = agency_of(agencies, agency_key)
    draft = _draft(db, agency, draft_id)
    layer = queue.target_layer(agency.layers, draft.path, draft.base_sha)
    try:
        saved: Saved = queue.approve(db, draft, login.agent.username, layer, _commit(login, draft, db))
    except queue.DraftInvalid as err:
        return _page(request, login, db, agencies, agency, draft, failure=str(err), failed=err.check,
                     status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)
    except queue.DraftConflict as err:
        return _page(request, login, db, agencies, agency, draft, failure=str(err),
                     status_code=status.HTTP_409_CONFLICT)
    except EntrySaveError as err:
        return _page(request, login, db, agencies, agency, draft, failure=str(err),
                     status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    except queue.ReviewError as err:
        return _page(request, login, db, agencies, agency, draft, failure=str(err),
                     status_code=status.HTTP_403_FORBIDDEN if draft.status == queue.DRAFT else
                     status.HTTP_409_CONFLICT)
    return RedirectResponse(f"/inbox/editor/review/{draft.id}{_query(agency, meldung='freigegeben')}"
                            + (f"&commit={saved.commit}" if saved.commit else ""),
                            status_code=status.HTTP_303_SEE_OTHER)


@router.post("/{draft_id}/reject")
def reject(draft_id: int, request: Request, login: CheckedLogin, db: Db, agencies: AgenciesDep,
           note: Annotated[str, Form(max_length=queue.MAX_NOTE)] = "", agency_key: AgencyForm = "") -> Response:
    """Mark the draft rejected with a note for its author; the file stays as it is."""
    agency = agency_of(agencies, agency_key)
    draft = _draft(db, agency, draft_id)
    try:
        queue.reject(db, draft, login.agent.username, note)
    except queue.ReviewError as err:
        return _page(request, login, db, agencies, agency, draft, failure=str(err), note=note,
                     status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)
    return RedirectResponse(f"/inbox/editor/review/{draft.id}{_query(agency, meldung='abgelehnt')}",
                            status_code=status.HTTP_303_SEE_OTHER)


@router.post("/{draft_id}/withdraw")
def withdraw(draft_id: int, request: Request, login: CheckedLogin, db: Db, agencies: AgenciesDep,
             agency_key: AgencyForm = "") -> Response:
    """The author takes the draft back."""
    agency = agency_of(agencies, agency_key)
    draft = _draft(db, agency, draft_id)
    try:
        queue.withdraw(db, draft, login.agent.username)
    except queue.ReviewError as err:
        return _page(request, login, db, agencies, agency, draft, failure=str(err),
                     status_code=status.HTTP_403_FORBIDDEN)
    return RedirectResponse(f"/inbox/editor/review{_query(agency, meldung='zurueckgezogen')}",
                            status_code=status.HTTP_303_SEE_OTHER)
