"""The editors' review queue: a change to a kb file is a draft until a second editor approves it.

Optional per deployment (``AUSKUNFT_EDITOR_REVIEW``). With it on, "Speichern" in the entry form stores the whole
proposed file as a :class:`~bot.staff.models.KbDraft` (with the SHA-256 of the file it was made against) instead of
writing it. Another editor approves it (the file is then checked and written exactly like a direct save, by
:func:`bot.editor.entry_store.save_entry`, against the draft's ``base_sha``: a file changed meanwhile refuses the
approval and the draft stays) or rejects it with a note; the author may withdraw it. The row keeps who proposed,
who decided, when, and the note: it is the audit record. No FastAPI here; the routes are in
:mod:`bot.web.routers.editor_review`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.editor.diff import entry_changes
from bot.editor.entry_check import EntryCheck, check_text
from bot.editor.entry_store import Commit, EntryConflict, Saved, file_hash, save_entry
from bot.errors import AuskunftError
from bot.kb.loader import KnowledgeBase
from bot.staff.models import KbDraft
from bot.tickets.models import utcnow

DRAFT, APPROVED, REJECTED, WITHDRAWN = "draft", "approved", "rejected", "withdrawn"
STATUS_LABELS = {DRAFT: "offen", APPROVED: "freigegeben", REJECTED: "abgelehnt", WITHDRAWN: "zurückgezogen"}
RELATIVE = re.compile(r"^(?:[a-z0-9_-]+/)*[a-z0-9][a-z0-9_-]*\.md$")  # a kb file path, never ``..`` or absolute
MAX_NOTE = 2000
HISTORY = 30
CONFLICT = ("Die Datei wurde inzwischen geändert (von jemand anderem oder direkt in der Datei), nachdem der Entwurf "
            "eingereicht wurde. Der Entwurf wurde nicht übernommen und bleibt offen. Lehnen Sie ihn mit einem "
            "Hinweis ab, damit er auf der aktuellen Fassung neu erstellt wird.")
FIELD_LABELS = {"id": "id", "title": "Titel", "questions": "Formulierungen", "lang": "Sprache", "tags": "Tags",
                "source": "Quelle", "owner": "Zuständig", "updated": "Geprüft am", "review_by": "Wieder prüfen bis",
                "plain": "Einfache Sprache", "tests": "Testfragen", "answer": "Antwort", "path": "Datei"}


class ReviewError(AuskunftError, ValueError):
    """A review action that is refused; the message (German) says why and what to do instead."""


class DraftNotFound(ReviewError):
    """No draft with this number (for this agency)."""


class DraftConflict(ReviewError):
    """The file changed since the draft was made; nothing was written, the draft stays open."""


class DraftInvalid(ReviewError):
    """The draft no longer passes the check (e.g. another file now has its id); ``check`` holds the problems."""

    def __init__(self, message: str, check: EntryCheck) -> None:
        super().__init__(message)
        self.check = check


@dataclass(frozen=True)
class DiffLine:
    """One line of the comparison: ``kind`` is ``+`` (added), ``-`` (removed), `` `` (unchanged) or ``@`` (a gap)."""

    kind: str
    text: str


def propose(session: Session, agency: str, layer: Path, path: str, content: str, base_sha: str,
            author: str) -> KbDraft:
    """Store ``content`` as a draft for ``layer/path`` (committed).

    Args:
        session: the staff database session.
        agency: the agency's key.
        layer: the kb folder the file belongs to (the path is relative to it).
        path: e.g. ``abfall/sperrmuell.md``.
        content: the whole proposed file, already checked by :func:`bot.editor.entry_check.check_text`.
        base_sha: :func:`bot.editor.entry_store.file_hash` of the file when the form was opened (``""``: new file).
        author: the proposing editor's user name.

    Raises:
        EntryConflict: the file changed since the form was opened (as for a direct save).
        ReviewError: the path is no kb file path.
    """
    _check_path(path)
    if file_hash(layer / path) != base_sha:
        if not base_sha:
            raise EntryConflict(f"Es gibt schon eine Datei {Path(path).name} in diesem Ordner; es wurde kein Entwurf "
                                "angelegt. Wählen Sie eine andere id oder bearbeiten Sie den vorhandenen Eintrag.")
        raise EntryConflict("Die Datei wurde geändert, seit Sie das Formular geöffnet haben (von jemand anderem oder "
                            "direkt in der Datei). Es wurde kein Entwurf angelegt. Laden Sie die aktuelle Fassung "
                            "und tragen Sie Ihre Änderungen dort erneut ein.")
    draft = KbDraft(agency=agency, path=path, content=content, base_sha=base_sha, author=author[:80],
                    created_at=utcnow(), status=DRAFT)
    session.add(draft)
    session.commit()
    return draft


def open_drafts(session: Session, agency: str) -> List[KbDraft]:
    """The agency's drafts waiting for a decision, oldest first."""
    query = select(KbDraft).where(KbDraft.agency == agency, KbDraft.status == DRAFT).order_by(KbDraft.id)
    return list(session.execute(query).scalars())


def decided_drafts(session: Session, agency: str, limit: int = HISTORY) -> List[KbDraft]:
    """The agency's latest approved, rejected or withdrawn drafts, newest first (the audit trail)."""
    query = (select(KbDraft).where(KbDraft.agency == agency, KbDraft.status != DRAFT)
             .order_by(KbDraft.reviewed_at.desc(), KbDraft.id.desc()).limit(limit))
    return list(session.execute(query).scalars())


def get_draft(session: Session, draft_id: int, agency: str) -> KbDraft:
    """The draft with this number.

    Raises:
        DraftNotFound: there is none for this agency.
    """
    draft = session.get(KbDraft, draft_id)
    if draft is None or draft.agency != agency:
        raise DraftNotFound(f"Es gibt keinen Entwurf Nr. {draft_id}.")
    return draft


def target_layer(layers: Sequence[Path], path: str, base_sha: str) -> Path:
    """The kb folder a draft's file belongs to: the last layer holding the file, for a new file the agency's own."""
    if base_sha:
        for layer in reversed(list(layers)):
            if (layer / path).is_file():
                return layer
    return list(layers)[-1]


def approve(session: Session, draft: KbDraft, reviewer: str, layer: Path, commit: Optional[Commit] = None,
            today: Optional[date] = None) -> Saved:
    """Check and write the draft's file like a direct save, then mark the draft approved (committed).

    Args:
        session: the staff database session.
        draft: an open draft.
        reviewer: the approving editor's user name; must differ from the author.
        layer: the draft's kb folder (:func:`target_layer`).
        commit: records the written file (e.g. in git); see :func:`bot.editor.entry_store.save_entry`.
        today: the date for the review checks (default: today).

    Raises:
        ReviewError: the reviewer is the author, or the draft is no longer open.
        DraftInvalid: the check finds errors now.
        DraftConflict: the file changed since the draft was made; the draft stays open.
        bot.editor.entry_store.EntrySaveError: writing or committing failed; the draft stays open.
    """
    _must_be_open(draft)
    if reviewer == draft.author:
        raise ReviewError("Sie können Ihren eigenen Entwurf nicht freigeben: Das muss eine zweite Person aus der "
                          "Redaktion tun. Sie können ihn aber zurückziehen.")
    check = check_draft(draft, layer, today)
    if not check.ok:
        raise DraftInvalid("Der Entwurf hat jetzt Fehler (siehe unten) und wurde nicht übernommen. Lehnen Sie ihn "
                           "mit einem Hinweis ab.", check)
    try:
        saved = save_entry(layer / draft.path, draft.content, draft.base_sha, commit)
    except EntryConflict:
        raise DraftConflict(CONFLICT) from None
    _decide(session, draft, APPROVED, reviewer, None)
    return saved


def reject(session: Session, draft: KbDraft, reviewer: str, note: str) -> None:
    """Mark the draft rejected with a note for its author (committed); the file stays as it is.

    Raises:
        ReviewError: no note, the reviewer is the author (who withdraws instead) or the draft is no longer open.
    """
    _must_be_open(draft)
    if reviewer == draft.author:
        raise ReviewError("Ihren eigenen Entwurf lehnen Sie nicht ab, Sie ziehen ihn zurück.")
    note = note.strip()
    if not note:
        raise ReviewError("Bitte schreiben Sie kurz, warum Sie den Entwurf ablehnen; der Hinweis geht an die "
                          "Verfasserin oder den Verfasser.")
    _decide(session, draft, REJECTED, reviewer, note[:MAX_NOTE])


def withdraw(session: Session, draft: KbDraft, actor: str) -> None:
    """The author takes the draft back (committed).

    Raises:
        ReviewError: ``actor`` is not the author, or the draft is no longer open.
    """
    _must_be_open(draft)
    if actor != draft.author:
        raise ReviewError("Nur die Verfasserin oder der Verfasser kann einen Entwurf zurückziehen.")
    _decide(session, draft, WITHDRAWN, actor, None)


def check_draft(draft: KbDraft, layer: Path, today: Optional[date] = None) -> EntryCheck:
    """The draft's file judged as a direct save would judge it now."""
    own = draft.path if draft.base_sha else None
    return check_text(draft.content, draft.path, layer, today or date.today(), own)


def current_text(draft: KbDraft, layer: Path) -> str:
    """The file as it is now (``""`` when it does not exist)."""
    try:
        return (layer / draft.path).read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return ""


def diff_lines(current: str, proposed: str, context: int = 3) -> List[DiffLine]:
    """The line-by-line comparison of the current file with the proposed one (unchanged parts shortened)."""
    lines: List[DiffLine] = []
    for line in difflib.unified_diff(current.splitlines(), proposed.splitlines(), n=context, lineterm=""):
        if line.startswith(("---", "+++")):
            continue
        lines.append(DiffLine("@", "…") if line.startswith("@@") else DiffLine(line[:1], line[1:]))
    return lines


def changed_fields(current: Optional[EntryCheck], proposed: EntryCheck) -> Tuple[str, ...]:
    """Which fields the draft changes (German labels), as ``auskunft kb diff`` lists them; all for a new entry."""
    if proposed.parsed is None:
        return ()
    new = KnowledgeBase((proposed.parsed.entry,), "")
    old = KnowledgeBase((current.parsed.entry,) if current is not None and current.parsed else (), "")
    changes = entry_changes(old, new)
    fields = next((c.fields for c in changes if c.faq_id == proposed.parsed.entry.id), ())
    return tuple(FIELD_LABELS.get(name, name) for name in fields)


def stale(draft: KbDraft, layer: Path) -> bool:
    """Whether the file changed since the draft was made (approval would be refused)."""
    return file_hash(layer / draft.path) != draft.base_sha


def _check_path(path: str) -> None:
    if not RELATIVE.match(path):
        raise ReviewError(f"„{path}“ ist kein gültiger Pfad einer kb-Datei.")


def _must_be_open(draft: KbDraft) -> None:
    if draft.status != DRAFT:
        raise ReviewError(f"Der Entwurf Nr. {draft.id} ist bereits {STATUS_LABELS.get(draft.status, draft.status)}.")


def _decide(session: Session, draft: KbDraft, status: str, who: str, note: Optional[str]) -> None:
    draft.status, draft.reviewer, draft.reviewed_at, draft.note = status, who[:80], utcnow(), note
    session.commit()


