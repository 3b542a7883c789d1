"""What ``auskunft kb diff`` found, and how it is printed for editors (German or English).

The data classes are filled by :func:`bot.editor.diff.diff_kb`; :func:`render_diff` turns them into plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from bot.decision import ANSWER, CLARIFY, HANDOFF, DecisionConfig
from bot.editor.recent_questions import StoreNote

TEST, RECENT = "test", "recent"
ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class Outcome:
    """What the bot does with one question under one kb: the decision, the answered entry and the top score.

    ``faq_id`` is the answered entry (None unless ``action`` is answer); ``choices`` the entries a clarify step offers.
    """

    action: str
    faq_id: Optional[str]
    score: float
    top_id: Optional[str] = None
    choices: Tuple[str, ...] = ()

    @property
    def key(self) -> Tuple[str, Optional[str]]:
        """What counts for a change: the decision and the answered entry (not the score, not the choices)."""
        return self.action, self.faq_id


@dataclass(frozen=True)
class QuestionDiff:
    """One question under the old and the new kb.

    Attributes:
        question: the text as searched (recent questions with personal data redacted).
        source: ``test`` (an entry's test question) or ``recent`` (a citizen's recent message).
        expected: the entries of the NEW kb that list the question as a test (usually one).
        old_expected: the entries of the OLD kb that list it.
        old: the outcome with the old kb.
        new: the outcome with the new kb.
    """

    question: str
    source: str
    expected: Tuple[str, ...]
    old_expected: Tuple[str, ...]
    old: Outcome
    new: Outcome

    @property
    def changed(self) -> bool:
        """The decision or the answered entry differs."""
        return self.old.key != self.new.key

    def fails(self, faq_id: str) -> bool:
        """The new kb does not answer the question with ``faq_id``."""
        return self.new.key != (ANSWER, faq_id)


@dataclass(frozen=True)
class EntryChange:
    """An entry added, removed, or changed (its file's content hash differs, or it moved to another file).

    ``fields`` lists what changed (``title``, ``questions``, ``answer``, ``tests``, ``path``, ...); empty for a
    change in formatting only.
    """

    faq_id: str
    status: str
    title: str
    path: str
    fields: Tuple[str, ...] = ()


@dataclass(frozen=True)
class DiffReport:
    """Everything :func:`render_diff` prints."""

    old_label: str
    new_label: str
    old_entries: int
    new_entries: int
    entries: List[EntryChange]
    questions: List[QuestionDiff]
    config: DecisionConfig
    titles: Dict[str, str] = field(default_factory=dict)
    notes: List[StoreNote] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> List[QuestionDiff]:
        """Questions whose decision or answered entry changed: test questions first, then recent ones."""
        return [q for q in self.questions if q.changed]

    @property
    def failing(self) -> List[Tuple[QuestionDiff, str]]:
        """(question, its entry) for every test question the new kb does not answer with its own entry."""
        return [(q, faq_id) for q in self.questions for faq_id in q.expected if q.fails(faq_id)]

    def count(self, source: str) -> int:
        """How many questions of ``source`` (``test`` or ``recent``) were checked."""
        return sum(q.source == source for q in self.questions)


TEXTS: Dict[str, Dict[str, str]] = {
    "de": {
        "title": "Was die kb-Änderung bewirkt",
        "compare": "Vergleich: {old} ({old_n} Einträge) → {new} ({new_n} Einträge)",
        "thresholds": "Schwellen: Antwort ab {answer:.3f} mit Abstand {margin:.3f}, Rückfrage ab {clarify:.3f}",
        "summary": "Geprüft: {tests} Testfragen und {recent} aktuelle Bürgerfragen in {seconds:.1f} s · "
                   "andere Entscheidung: {changed} · fehlschlagende Testfragen: {failing}",
        "entries": "1. Geänderte Einträge", ADDED: "neu", REMOVED: "entfernt", CHANGED: "geändert",
        "format_only": "nur Formatierung",
        "changes": "2. Fragen, bei denen der Bot jetzt anders entscheidet (alt → neu)",
        "test_of": "Testfrage von {ids}", "recent": "aktuelle Bürgerfrage",
        "failing": "3. Testfragen, die der neue Stand NICHT mit ihrem Eintrag beantwortet",
        "newly": "neu fehlgeschlagen", "already": "schon vorher nicht", "new_test": "neue Testfrage",
        "fail_line": "soll [{id}] → Bot: {outcome}",
        "failing_do": "→ Die Frage als Formulierung (questions) ergänzen oder den konkurrierenden Eintrag schärfen.",
        "none": "   keine",
        "not_sql": "Hinweis: keine aktuellen Bürgerfragen – der Tracker-Store ist nicht SQL ({detail}).",
        "no_database": "Hinweis: keine aktuellen Bürgerfragen – die Datenbank {detail} gibt es noch nicht.",
        "unreadable": "Hinweis: aktuelle Bürgerfragen konnten nicht gelesen werden ({detail}).",
        ANSWER: "Antwort [{id}]", CLARIFY: "Rückfrage [{ids}]", HANDOFF: "Weiterleitung",
        "next": "Nächste Schritte: Änderungen prüfen; fehlschlagende Testfragen beheben; danach 'auskunft kb build'.",
    },
    "en": {
        "title": "What the kb change does",
        "compare": "Comparing: {old} ({old_n} entries) → {new} ({new_n} entries)",
        "thresholds": "Thresholds: answer from {answer:.3f} with a margin of {margin:.3f}, clarify from {clarify:.3f}",
        "summary": "Checked: {tests} test questions and {recent} recent citizen questions in {seconds:.1f} s · "
                   "decided differently: {changed} · failing test questions: {failing}",
        "entries": "1. Changed entries", ADDED: "added", REMOVED: "removed", CHANGED: "changed",
        "format_only": "formatting only",
        "changes": "2. Questions the bot now decides differently (old → new)",
        "test_of": "test question of {ids}", "recent": "recent citizen question",
        "failing": "3. Test questions the new kb does NOT answer with their entry",
        "newly": "newly failing", "already": "failed before too", "new_test": "new test question",
        "fail_line": "expects [{id}] → bot: {outcome}",
        "failing_do": "→ Add the question as a phrasing (questions) or sharpen the competing entry.",
        "none": "   none",
        "not_sql": "Note: no recent citizen questions – the tracker store is not SQL ({detail}).",
        "no_database": "Note: no recent citizen questions – the database {detail} does not exist yet.",
        "unreadable": "Note: recent citizen questions could not be read ({detail}).",
        ANSWER: "answer [{id}]", CLARIFY: "clarify [{ids}]", HANDOFF: "hand off",
        "next": "Next steps: review the changes; fix failing test questions; then run 'auskunft kb build'.",
    },
}


def _outcome(t: Dict[str, str], outcome: Outcome) -> str:
    """E.g. ``Antwort [sperrmuell] 0.612`` or ``Rückfrage [a | b] 0.301``."""
    text = t[outcome.action].format(id=outcome.faq_id, ids=" | ".join(outcome.choices))
    return f"{text} {outcome.score:.3f}"


def _failure_state(q: QuestionDiff, faq_id: str) -> str:
    """``newly`` failing (the old kb answered it right), failing ``already`` before, or a ``new_test``."""
    if q.old.key == (ANSWER, faq_id):
        return "newly"
    return "already" if faq_id in q.old_expected else "new_test"


def _where(t: Dict[str, str], q: QuestionDiff) -> str:
    if q.source == RECENT:
        return t["recent"]
    return t["test_of"].format(ids=", ".join(q.expected or q.old_expected))


def render_diff(report: DiffReport, lang: str = "de") -> str:
    """The report as plain text for editors, in German (``de``, the default) or English (``en``).

    Raises:
        ValueError: ``lang`` is neither ``de`` nor ``en``.
    """
    if lang not in TEXTS:
        raise ValueError(f"lang must be one of {sorted(TEXTS)}, got {lang!r}")
    t, cfg = TEXTS[lang], report.config
    quote = ("„", "“") if lang == "de" else ('"', '"')
    lines = [t["title"], "=" * len(t["title"]),
             t["compare"].format(old=report.old_label, old_n=report.old_entries, new=report.new_label,
                                 new_n=report.new_entries),
             t["thresholds"].format(answer=cfg.answer_threshold, margin=cfg.min_margin, clarify=cfg.clarify_threshold),
             t["summary"].format(tests=report.count(TEST), recent=report.count(RECENT), seconds=report.seconds,
                                 changed=len(report.changed), failing=len(report.failing))]
    lines += [t[note.code].format(detail=note.detail) for note in report.notes]
    lines += ["", t["entries"]]
    for change in report.entries:
        fields = ", ".join(change.fields) if change.fields else t["format_only"]
        detail = f" ({fields})" if change.status == CHANGED else ""
        lines.append(f"   {t[change.status]:<9} [{change.faq_id}] {quote[0]}{change.title}{quote[1]} – "
                     f"{change.path}{detail}")
    lines += [] if report.entries else [t["none"]]
    lines += ["", t["changes"]]
    for q in report.changed:
        lines += [f" - {quote[0]}{q.question}{quote[1]} ({_where(t, q)})",
                  f"     {_outcome(t, q.old)}  →  {_outcome(t, q.new)}"]
    lines += [] if report.changed else [t["none"]]
    lines += ["", t["failing"]]
    for q, faq_id in report.failing:
        state = t[_failure_state(q, faq_id)]
        lines += [f" - {quote[0]}{q.question}{quote[1]} ({state})",
                  "     " + t["fail_line"].format(id=faq_id, outcome=_outcome(t, q.new))]
    lines += ["   " + t["failing_do"]] if report.failing else [t["none"]]
    return "\n".join([*lines, "", t["next"], ""])
