"""FAQ editing in the browser at ``/inbox/editor/entries``: list, create and edit kb entries (editors only).

A thin adapter over :mod:`bot.editor.entry_form` (form <-> file), :mod:`bot.editor.entry_check` (the kb loader and
the ``kb check`` rules) and :mod:`bot.editor.entry_store` (conflict check, atomic write, git commit). The form posts
with the session's CSRF token; "Vorschau" renders the answer as the widget would and lists what the check finds,
"Speichern" writes the file only when the check finds no error and the file is unchanged since the form was opened.
The kb watcher then publishes the new index, as for a file saved by hand.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from typing import Annotated, Any, Dict, Optional
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.config.agencies import Agency
from bot.editor import review_queue
from bot.editor.entry_check import EntryCheck, Problem, check_text
from bot.editor.entry_form import FOLDER, MAX_FIELD, EntryForm, entry_text
from bot.editor.entry_store import (
    EntryConflict,
    EntrySaveError,
    Located,
    entries_of,
    file_hash,
    folders_of,
    locate,
    save_entry,
)
from bot.kb.loader import ID_PATTERN, LANGUAGES
from bot.suggestions.git_commit import commit_file, editor_identity
from bot.web.deps import AgenciesDep, services_of
from bot.web.routers.editor_access import AgencyKey, agency_context, agency_of
from bot.web.routers.inbox_auth import CheckedLogin, CurrentLogin, Db, Login, render

router = APIRouter(prefix="/entries", include_in_schema=False)  # under the editor router: /inbox/editor/entries
Text = Annotated[str, Form(max_length=MAX_FIELD)]
Short = Annotated[str, Form(max_length=300)]
Question = Annotated[str, Query(alias="frage", max_length=500)]
HASH = re.compile(r"^(|[0-9a-f]{64})$")
FLASH = {"gespeichert": "Gespeichert. Der Assistent beantwortet Fragen mit der neuen Fassung, sobald der Suchindex "
                        "neu aufgebaut ist (wenige Sekunden)."}


def _query(agency: Agency, **more: str) -> str:
    """``?agency=…&…`` for links and redirects (the default agency and empty values left out)."""
    pairs = ([("agency", agency.key)] if not agency.is_default else []) + [(k, v) for k, v in more.items() if v]
    return f"?{urlencode(pairs)}" if pairs else ""


def _entry(agency: Agency, faq_id: str) -> Located:
    """The entry's file, or a 404."""
    found = locate(agency.layers, faq_id) if ID_PATTERN.match(faq_id) else None
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Keinen Eintrag „{faq_id}“ gefunden")
    return found


@router.get("", response_class=HTMLResponse)
def entries_page(request: Request, login: CurrentLogin, agencies: AgenciesDep,
                 agency_key: AgencyKey = "") -> HTMLResponse:
    """Every entry of the agency with a link to its form, and "Neuer Eintrag"."""
    agency = agency_of(agencies, agency_key)
    rows = [{"entry": entry, "shared": index < len(agency.layers) - 1} for entry, index in entries_of(agency.layers)]
    return render(request, "editor/entries.html", {"active": "editor-entries", "rows": rows,
                                                   "query": _query(agency), **agency_context(agencies, agency)}, login)


@router.get("/phrasing")
def add_phrasing(request: Request, login: CurrentLogin, agencies: AgenciesDep, question: Question = "",
                 faq_id: Annotated[str, Query(alias="eintrag", max_length=80)] = "",
                 agency_key: AgencyKey = "") -> Response:
    """"Add this question as a phrasing": open the chosen entry's form with the question added to ``questions``."""
    agency = agency_of(agencies, agency_key)
    found = _entry(agency, faq_id)
    return RedirectResponse(f"/inbox/editor/entries/{found.entry.id}/edit{_query(agency, frage=question)}",
                            status_code=status.HTTP_303_SEE_OTHER)


@router.get("/new", response_class=HTMLResponse)
def new_form(request: Request, login: CurrentLogin, agencies: AgenciesDep, question: Question = "",
             folder: Annotated[str, Query(alias="ordner", max_length=60)] = "",
             agency_key: AgencyKey = "") -> HTMLResponse:
    """An empty form for a new entry (the question, if given, as its first phrasing)."""
    agency = agency_of(agencies, agency_key)
    form = EntryForm.blank(date.today(), folder if FOLDER.match(folder) else "").with_question(question)
    return _form_page(request, login, agencies, agency, form, None, "")


@router.get("/{faq_id}/edit", response_class=HTMLResponse)
def edit_form(faq_id: str, request: Request, login: CurrentLogin, agencies: AgenciesDep, question: Question = "",
              meldung: Annotated[str, Query(max_length=20)] = "",
              commit: Annotated[str, Query(max_length=40, regex="^[0-9a-f]*$")] = "",
              agency_key: AgencyKey = "") -> HTMLResponse:
    """The entry's form, filled from its file (``?frage=``: with that question added as the last phrasing)."""
    agency = agency_of(agencies, agency_key)
    found = _entry(agency, faq_id)
    form = EntryForm.of_entry(found.entry).with_question(question)
    flash = FLASH.get(meldung, "")
    if flash and commit:
        flash += f" Git-Commit {commit[:10]}."
    return _form_page(request, login, agencies, agency, form, found, file_hash(found.path), flash=flash,
                      added=question.strip() and form != EntryForm.of_entry(found.entry))


def _form_page(request: Request, login: Login, agencies: Any, agency: Agency, form: EntryForm,
               found: Optional[Located], content_hash: str, *, check: Optional[EntryCheck] = None,
               preview: bool = False, flash: str = "", error: str = "", added: Any = False,
               status_code: int = 200) -> HTMLResponse:
    layer = found.layer if found is not None else agency.layers[-1]
    problems: Dict[str, list] = check.by_field() if check is not None else {}
    context = {"active": "editor-entries", "form": form, "found": found, "hash": content_hash, "preview": preview,
               "problems": problems, "check": check, "notice": flash, "failure": error, "added": bool(added),
               "languages": LANGUAGES, "folders": folders_of(layer), "query": _query(agency),
               "action": f"/inbox/editor/entries/{found.entry.id}/edit" if found else "/inbox/editor/entries/new",
               **agency_context(agencies, agency)}
    return render(request, "editor/entry_form.html", context, login, status_code=status_code)


def _propose(request: Request, login: Login, db: Session, agencies: Any, agency: Agency, form: EntryForm,
             found: Optional[Located], content_hash: str, check: EntryCheck, relative: str, text: str) -> Response:
    """Store the checked text as a draft of the review queue (nothing is written) and show the draft."""
    layer = found.layer if found is not None else agency.layers[-1]
    try:
        draft = review_queue.propose(db, agency.key, layer, relative, text, content_hash, login.agent.username)
    except EntryConflict as err:
        return _form_page(request, login, agencies, agency, form, found, content_hash, check=check, error=str(err),
                          status_code=status.HTTP_409_CONFLICT)
    return RedirectResponse(f"/inbox/editor/review/{draft.id}{_query(agency, meldung='eingereicht')}",
                            status_code=status.HTTP_303_SEE_OTHER)


def _submit(request: Request, login: Login, db: Session, agencies: Any, agency_key: str, form: EntryForm,
            action: str, content_hash: str, found: Optional[Located]) -> Response:
    """Preview or save one submitted form (see the module docstring)."""
    agency = agency_of(agencies, agency_key)
    if not HASH.match(content_hash):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="Ungültige Prüfsumme im Formular")
    if found is not None:  # id and folder stay: the file keeps its name and place
        form = dataclasses.replace(form, id=found.entry.id, folder=found.entry.path.rpartition("/")[0])
    layer = found.layer if found is not None else agency.layers[-1]
    extra = [] if found is not None or FOLDER.match(form.folder) or not form.folder else [
        Problem("folder", "error", "invalid_folder", f"„{form.folder}“ ist kein gültiger Ordnername.",
                "Nur Kleinbuchstaben, Ziffern, „-“ und „_“, z. B. abfall.")]
    safe_path = ID_PATTERN.match(form.id.strip()) and not extra
    relative = form.relative_path() if safe_path else "entwurf.md"  # never a path from unchecked input
    text = entry_text(form)
    check = check_text(text, relative, layer, date.today(), found.entry.path if found else None)
    check.problems[:0] = extra
    if action != "save" or not check.ok:
        return _form_page(request, login, agencies, agency, form, found, content_hash, check=check,
                          preview=action != "save", error="" if check.ok else
                          "Nicht gespeichert: bitte die markierten Fehler beheben.",
                          status_code=status.HTTP_200_OK if action != "save" else
                          status.HTTP_422_UNPROCESSABLE_ENTITY)
    path = found.path if found is not None else layer / relative
    if services_of(request.app).settings.editor_review:  # the review queue: a draft for a second editor
        return _propose(request, login, db, agencies, agency, form, found, content_hash, check,
                        found.entry.path if found is not None else relative, text)
    verb = "angelegt" if found is None else "bearbeitet"
    try:
        name, email = editor_identity(login.agent.username, login.agent.display_name,
                                      getattr(login.agent, "email", None))
        message = f"kb: {form.id.strip()} im Browser {verb}"
        saved = save_entry(path, text, content_hash, lambda written: commit_file(written, message, name, email))
    except EntryConflict as err:
        return _form_page(request, login, agencies, agency, form, found, content_hash, check=check, error=str(err),
                          status_code=status.HTTP_409_CONFLICT)
    except EntrySaveError as err:
        return _form_page(request, login, agencies, agency, form, found, content_hash, check=check, error=str(err),
                          status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    target = f"/inbox/editor/entries/{form.id.strip()}/edit{_query(agency, meldung='gespeichert')}"
    if saved.commit:
        target += f"&commit={saved.commit}"
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


@router.post("/new")
def create(request: Request, login: CheckedLogin, db: Db, agencies: AgenciesDep, id: Short = "", title: Text = "",
           questions: Text = "", lang: Short = "", tags: Text = "", source: Text = "", owner: Short = "",
           updated: Short = "", review_by: Short = "", plain: Text = "", tests: Text = "", answer: Text = "",
           folder: Short = "", action: Short = "preview", content_hash: Annotated[str, Form(alias="hash")] = "",
           agency_key: Annotated[str, Form(alias="agency", max_length=40)] = "") -> Response:
    """Preview or save a new entry (as ``<folder>/<id>.md`` in the agency's own kb layer)."""
    form = EntryForm.of_values(dict(id=id, title=title, questions=questions, lang=lang, tags=tags, source=source,
                                    owner=owner, updated=updated, review_by=review_by, plain=plain, tests=tests,
                                    answer=answer, folder=folder))
    return _submit(request, login, db, agencies, agency_key, form, action, "", None)


@router.post("/{faq_id}/edit")
def update(faq_id: str, request: Request, login: CheckedLogin, db: Db, agencies: AgenciesDep, title: Text = "",
           questions: Text = "", lang: Short = "", tags: Text = "", source: Text = "", owner: Short = "",
           updated: Short = "", review_by: Short = "", plain: Text = "", tests: Text = "", answer: Text = "",
           action: Short = "preview", content_hash: Annotated[str, Form(alias="hash", max_length=64)] = "",
           agency_key: Annotated[str, Form(alias="agency", max_length=40)] = "") -> Response:
    """Preview or save an existing entry; refused (409) if its file changed since the form was opened."""
    found = _entry(agency_of(agencies, agency_key), faq_id)
    form = EntryForm.of_values(dict(title=title, questions=questions, lang=lang, tags=tags, source=source,
                                    owner=owner, updated=updated, review_by=review_by, plain=plain, tests=tests,
                                    answer=answer))
    return _submit(request, login, db, agencies, agency_key, form, action, content_hash, found)
