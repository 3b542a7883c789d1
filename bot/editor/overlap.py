"""Semantic duplicates and conflicts in the kb, as the bot sees them: a report for editors.

Every phrasing (title or question) is embedded with the bot's encoder, ranked by the index's own ``search`` (same
adapter, score mix and language filter) and judged by :func:`bot.decision.decide`. 1. *Near-duplicates*: asked word
for word, a phrasing of entry A has entry B within ``min_margin`` of A (or above) and at or above ``clarify_threshold``.
2. *Misrouted phrasings*, 3. *decisions*: a phrasing finds itself verbatim, so it is ranked again as if not in the kb,
like a paraphrase: its row is overwritten by a sibling phrasing of its entry and the kb adapter (which learnt it) is
retrained without it, in ``FOLDS`` folds. Answer passages and keyword statistics stay as built (slightly favouring the
own entry). Entries with a single phrasing cannot be held out.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, TextIO, Tuple, cast

import numpy as np

from bot.decision import ANSWER, CLARIFY, FAQ_INTENT, HANDOFF, ConversationState, DecisionConfig, decide_turn
from bot.kb import KbValidationError, KnowledgeBase
from bot.kb.layers import load_layers
from bot.retrieval.adapter import AdapterConfig
from bot.retrieval.builder import train_kb_adapter
from bot.retrieval.index import FaqIndex, TextEncoder

FOLDS = 5  # the adapter is retrained once per fold of phrasings, without them


@dataclass(frozen=True)
class EntryInfo:
    """What an editor needs to find an entry: id, title, owner and file (or source URL)."""

    id: str
    title: str
    owner: str
    path: str


@dataclass(frozen=True)
class PhrasingCheck:
    """A phrasing ranked as if not in the kb; ``answered_id``, ``own_score``: None if not answered, not ranked."""

    faq_id: str
    phrasing: str
    action: str
    reason: str
    answered_id: Optional[str]
    top_id: str
    top_score: float
    own_score: Optional[float]

    @property
    def misrouted(self) -> bool:
        """Another entry ranks first."""
        return self.top_id != self.faq_id


@dataclass(frozen=True)
class OverlapPair:
    """Two entries the bot cannot tell apart: ambiguous phrasings of each, and the closest case (a's vs b's)."""

    a: str
    b: str
    ambiguous_a: int
    total_a: int
    ambiguous_b: int
    total_b: int
    phrasing: str
    matched: str
    own_score: float
    other_score: float


@dataclass(frozen=True)
class OverlapReport:
    """Everything :func:`render_report` prints."""

    entries: Dict[str, EntryInfo]
    pairs: List[OverlapPair]
    checks: List[PhrasingCheck]
    unchecked: List[str]
    config: DecisionConfig
    phrasings: int

    @property
    def misrouted(self) -> List[PhrasingCheck]:
        """Phrasings that land on another entry; wrong answers first, then by how far the own entry is behind."""
        return sorted((c for c in self.checks if c.misrouted),
                      key=lambda c: (c.action != ANSWER, (-1.0 if c.own_score is None else c.own_score) - c.top_score))

    @property
    def not_answered(self) -> List[PhrasingCheck]:
        """Phrasings that land on their own entry but would get a clarify step or a handoff."""
        return [c for c in self.checks if not c.misrouted and c.action != ANSWER]


def _pairs(found: Dict[Tuple[str, str], List[Tuple[float, str, str, float, float]]],
           totals: Dict[str, int]) -> List[OverlapPair]:
    """Merge (A, B) and (B, A) findings into one pair per two entries, most severe first."""
    pairs = []
    for x, y in sorted({tuple(sorted(key)) for key in found}):
        _, phrasing, matched, own, other, a, b = min((*case, a, b) for a, b in ((x, y), (y, x))
                                                     for case in found.get((a, b), []))
        pairs.append(OverlapPair(a, b, len(found.get((a, b), [])), totals[a], len(found.get((b, a), [])), totals[b],
                                 phrasing, matched, own, other))
    return sorted(pairs, key=lambda p: (-(p.ambiguous_a + p.ambiguous_b) / (p.total_a + p.total_b),
                                        p.own_score - p.other_score, p.a, p.b))  # the largest share first


def _fold_view(index: FaqIndex, train: np.ndarray) -> FaqIndex:
    """A copy of the index whose rows may be overwritten, with the adapter retrained on the ``train`` rows only."""
    view = copy.copy(index) if index.adapter is None else FaqIndex(  # the builder's training, kb build's settings
        index.records, index.vectors, index.owners, index.answers, index.answer_owners, index.meta,
        index.answer_weight, index.lexical_weight, train_kb_adapter(index.vectors[train], index.owners[train],
                                                                  AdapterConfig()))
    view._mapped, view.records = view._mapped.copy(), list(index.records)
    return view


def find_overlaps(index: FaqIndex, encoder: TextEncoder, config: DecisionConfig, kb: Optional[KnowledgeBase] = None,
                  k: int = 10, progress: Optional[Callable[[int, int], None]] = None,
                  withdraw: bool = False) -> OverlapReport:
    """Check every phrasing of the index against all entries, as the bot would rank and decide.

    Args:
        index: the index as the bot uses it (built by :func:`bot.retrieval.builder.build_index`).
        encoder: the encoder whose space the index lives in (the fine-tuned one if the index names one).
        config: the bot's thresholds.
        kb: the kb the index was built from, to name entries by file (else by source URL).
        k: candidates ranked per phrasing (entries beyond them cannot be within the margin).
        progress: called with (phrasings done, phrasings total); each phrasing is counted twice.
        withdraw: the ``withdraw_overdue`` setting, as the bot applies it.
    """
    records, paths, owners = index.records, {e.id: e.path for e in kb.entries} if kb else {}, index.owners
    tick = progress or (lambda done, total: None)
    texts = [p for r in records for p in r.phrasings]
    vectors = encoder.encode(texts)
    offsets = np.arange(len(texts)) - np.searchsorted(owners, np.arange(len(records)))[owners]
    found: Dict[Tuple[str, str], List[Tuple[float, str, str, float, float]]] = defaultdict(list)
    for row, (text, position) in enumerate(zip(texts, owners, strict=True)):
        record = records[position]
        verbatim = index.search(vectors[row], k=k, lang=record.lang, text=text)
        own = next((c.score for c in verbatim if c.faq_id == record.id), float("-inf"))
        for cand in verbatim:
            if cand.faq_id != record.id and cand.score >= config.clarify_threshold \
                    and own - cand.score < config.min_margin:
                found[(record.id, cand.faq_id)].append((own - cand.score, text, cand.matched, own, cand.score))
        tick(row + 1, 2 * len(texts))
    checks: Dict[int, PhrasingCheck] = {}
    folds = (offsets + owners) % FOLDS  # an entry's phrasings are spread over the folds
    for fold in range(FOLDS):
        view = _fold_view(index, folds != fold)
        for row in np.flatnonzero(folds == fold):
            record, offset = records[owners[row]], int(offsets[row])
            if len(record.phrasings) > 1:
                sibling, saved = row + (1 if offset == 0 else -offset), view._mapped[row].copy()
                view._mapped[row] = view._mapped[sibling]
                view.records[owners[row]] = dataclasses.replace(record, phrasings=[
                    *record.phrasings[:offset], texts[sibling], *record.phrasings[offset + 1:]])
                ranked = view.search(vectors[row], k=k, lang=record.lang, text=texts[row])
                decision = decide_turn(FAQ_INTENT, ranked, ConversationState(), config, view, withdraw)
                checks[int(row)] = PhrasingCheck(record.id, texts[row], decision.action, decision.reason,
                                                 decision.faq_id, ranked[0].faq_id, ranked[0].score,
                                                 next((c.score for c in ranked if c.faq_id == record.id), None))
                view._mapped[row], view.records[owners[row]] = saved, record
        tick(len(texts) + int(np.sum(folds <= fold)), 2 * len(texts))
    entries = {r.id: EntryInfo(r.id, r.title, r.owner, paths.get(r.id, r.source)) for r in records}
    totals = {r.id: len(r.phrasings) for r in records}
    return OverlapReport(entries, _pairs(found, totals), [checks[row] for row in sorted(checks)],
                         [i for i, n in totals.items() if n < 2], config, len(texts))


TEXTS: Dict[str, Dict[str, str]] = {
    "de": {
        "title": "Überschneidungen in der Wissensdatenbank", "none": "   keine", "q": "„“",
        "summary": "{entries} Einträge, {phrasings} Formulierungen (Schwellen: Antwort ab {answer:.3f} mit "
                   "Abstand {margin:.3f}, Rückfrage ab {clarify:.3f}).\nFast gleiche Einträge: {pairs} Paare · "
                   "Formulierungen beim falschen Eintrag: {misrouted} · ohne direkte Antwort: {unanswered}",
        "pairs": "1. Fast gleiche Einträge: der Bot kann sie auch bei wörtlicher Frage nicht unterscheiden",
        "pair": "{ambiguous_a}/{total_a} Formulierungen von {a} und {ambiguous_b}/{total_b} von {b} sind nicht "
                "eindeutig; am engsten: „{phrasing}“ ↔ „{matched}“ ({own_score:.3f} gegen {other_score:.3f})",
        "pairs_do": "→ Fragen schärfer formulieren oder die Einträge zusammenlegen.",
        "misrouted": "2. Formulierungen, die beim falschen Eintrag landen (als Umformulierung geprüft)",
        "lands": "landet bei [{top}] „{title}“ ({score:.3f}, eigener Eintrag: {own}) → Bot: {action}",
        "covered": "{n} weitere landen bei einem fast gleichen Eintrag aus Teil 1.",
        "misrouted_do": "→ Die Frage dem richtigen Eintrag zuordnen oder schärfer formulieren.",
        "unanswered": "3. Formulierungen, die der Bot nicht direkt beantworten würde (als Umformulierung geprüft)",
        "decided": "→ Bot: {action} (Score {score:.3f})", "wrong": "Antwort mit {id} (falscher Eintrag!)",
        "unanswered_do": "→ Weitere Formulierungen ergänzen oder die Frage schärfer formulieren.",
        "unchecked": "Nur eine Formulierung, in Teil 2 und 3 nicht geprüft: {ids}",
        "next": "Nächste Schritte: Fragen schärfer formulieren, Einträge zusammenlegen, oder die Frage dem "
                "richtigen Eintrag zuordnen; danach 'auskunft kb build' und diesen Bericht erneut ausführen.",
        ANSWER: "Antwort", CLARIFY: "Rückfrage mit Auswahl", HANDOFF: "Weiterleitung an Mitarbeitende",
    },
    "en": {
        "title": "Overlaps in the knowledge base", "none": "   none", "q": '""',
        "summary": "{entries} entries, {phrasings} phrasings (thresholds: answer from {answer:.3f} with a margin "
                   "of {margin:.3f}, clarify from {clarify:.3f}).\nNear-duplicate entries: {pairs} pairs · "
                   "phrasings landing on another entry: {misrouted} · not answered directly: {unanswered}",
        "pairs": "1. Near-duplicate entries: the bot cannot tell them apart even when asked word for word",
        "pair": "{ambiguous_a}/{total_a} phrasings of {a} and {ambiguous_b}/{total_b} of {b} are ambiguous; "
                "closest: \"{phrasing}\" <-> \"{matched}\" ({own_score:.3f} vs {other_score:.3f})",
        "pairs_do": "→ Word the questions more precisely or merge the entries.",
        "misrouted": "2. Phrasings that land on another entry (checked as a paraphrase)",
        "lands": "lands on [{top}] \"{title}\" ({score:.3f}, own entry: {own}) → bot: {action}",
        "covered": "{n} more land on a near-duplicate entry from part 1.",
        "misrouted_do": "→ Move the question to the right entry or word it more precisely.",
        "unanswered": "3. Phrasings the bot would not answer directly (checked as a paraphrase)",
        "decided": "→ bot: {action} (score {score:.3f})", "wrong": "answer with {id} (wrong entry!)",
        "unanswered_do": "→ Add more phrasings or word the question more precisely.",
        "unchecked": "Only one phrasing, not checked in parts 2 and 3: {ids}",
        "next": "Next steps: word questions more precisely, merge entries, or move the question to the right "
                "entry; then run 'auskunft kb build' and this report again.",
        ANSWER: "answer", CLARIFY: "clarify with choices", HANDOFF: "hand off to staff",
    },
}


def render_report(report: OverlapReport, lang: str = "de") -> str:
    """The report as plain text for editors, in German (``de``) or English (``en``).

    Raises:
        ValueError: ``lang`` is neither ``de`` nor ``en``.
    """
    if lang not in TEXTS:
        raise ValueError(f"lang must be one of {sorted(TEXTS)}, got {lang!r}")
    t, cfg, info, q = TEXTS[lang], report.config, report.entries, TEXTS[lang]["q"]

    def _entry_line(faq_id: str) -> str:
        entry = info.get(faq_id)
        return f"[{faq_id}] {q[0]}{entry.title}{q[1]} – {entry.owner}, {entry.path}" if entry else f"[{faq_id}]"

    def _action(check: PhrasingCheck) -> str:
        wrong = check.action == ANSWER and check.answered_id != check.faq_id
        return t["wrong"].format(id=check.answered_id) if wrong else t[check.action]

    paired = {frozenset((p.a, p.b)) for p in report.pairs if p.ambiguous_a and p.ambiguous_b}  # true duplicates
    misrouted = [c for c in report.misrouted if frozenset((c.faq_id, c.top_id)) not in paired]
    lines = [t["title"], "=" * len(t["title"]), *t["summary"].format(
        entries=len(info), phrasings=report.phrasings, answer=cfg.answer_threshold, margin=cfg.min_margin,
        clarify=cfg.clarify_threshold, pairs=len(report.pairs), misrouted=len(report.misrouted),
        unanswered=len(report.not_answered)).split("\n"), "", t["pairs"]]
    for n, pair in enumerate(report.pairs, start=1):
        lines += [f"{n:>3}. {_entry_line(pair.a)}", f"     {_entry_line(pair.b)}",
                  "     " + t["pair"].format(**dataclasses.asdict(pair))]
    lines += ["   " + t["pairs_do"] if report.pairs else t["none"], "", t["misrouted"]]
    for n, check in enumerate(misrouted, start=1):
        top, own = info.get(check.top_id), "–" if check.own_score is None else f"{check.own_score:.3f}"
        lines += [f"{n:>3}. {_entry_line(check.faq_id)}", f"     {q[0]}{check.phrasing}{q[1]}",
                  "     " + t["lands"].format(top=check.top_id, title=top.title if top else "", score=check.top_score,
                                              own=own, action=_action(check))]
    if len(misrouted) < len(report.misrouted):
        lines.append("   " + t["covered"].format(n=len(report.misrouted) - len(misrouted)))
    lines += ["   " + t["misrouted_do"] if report.misrouted else t["none"], "", t["unanswered"]]
    for n, check in enumerate(report.not_answered, start=1):
        decided = t["decided"].format(action=_action(check), score=check.top_score)
        lines += [f"{n:>3}. {_entry_line(check.faq_id)}", f"     {q[0]}{check.phrasing}{q[1]} {decided}"]
    lines += ["   " + t["unanswered_do"] if report.not_answered else t["none"]]
    lines += ["", t["unchecked"].format(ids=", ".join(report.unchecked))] if report.unchecked else []
    return "\n".join([*lines, "", t["next"], ""])


def run_overlap(kb_dir: Path, lang: str = "de", out: TextIO = sys.stdout,
                layers: Optional[Sequence[Path]] = None) -> int:
    """Build the index from ``kb_dir`` like ``auskunft kb build``, in a temporary directory, and print the report.

    With ``layers`` (an agency's kb layers, shared first) the agency's merged kb is checked instead of ``kb_dir``.

    Embedding cache and kb-tuned model (``finetune_epochs``) are shared with the build; the live index is untouched.

    Returns:
        0 (the report is advice, not a failure), or 1 if the kb is invalid.
    """
    from bot.calibration import thresholds_for
    from bot.config.settings import get_settings
    from bot.publish.build import build_and_publish
    from bot.retrieval.assembly import kb_tuner, model_loader, query_encoder
    from bot.retrieval.searcher import FaqSearcher
    from bot.retrieval.store import IndexStore
    from bot.run.progress import progress_printer

    settings = get_settings()
    base = query_encoder(settings)
    try:
        source = list(layers) if layers else [kb_dir]
        kb = load_layers(source).kb
        with tempfile.TemporaryDirectory(prefix="auskunft-overlap-") as tmp:
            build_and_publish(source, Path(tmp) / "index", settings.cache_dir, base, progress_printer("embedding"),
                              tune_for_kb=kb_tuner(settings, base))
            index = IndexStore(Path(tmp) / "index").current()
    except KbValidationError as err:
        print(err, file=sys.stderr)
        return 1
    encoder = FaqSearcher(base, index=index, load_encoder=model_loader(settings)).encoder_for(index)
    report = find_overlaps(index, cast(TextEncoder, encoder), thresholds_for(settings, index.meta), kb,
                           progress=progress_printer("checking phrasings"), withdraw=settings.withdraw_overdue)
    out.write(render_report(report, lang))
    return 0
