"""``auskunft kb diff``: what a kb change does to the bot's answers, before it is published.

Both kbs (e.g. ``HEAD`` and the working directory) are built into indexes exactly as ``auskunft kb build`` builds
them (:func:`bot.retrieval.builder.build_index`: same embedding cache, kb adapter, score weights, and the kb-tuned
model when ``finetune_epochs`` is set), in memory; the live index is untouched. Every test question of every entry
(the ``tests:`` field, old and new) and the citizens' recent questions are then ranked like ``auskunft ask`` does
(language guessed from the text, top 5) and judged by :func:`bot.decision.decide` with the configured thresholds,
as a first turn of a conversation. The report lists the questions whose decision or answered entry changed, the
entries added, removed or changed, and the test questions the new kb does not answer with their own entry.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, TextIO, Tuple

import numpy as np

from bot.calibration import calibrate
from bot.decision import ConversationState, DecisionConfig, decide_turn, route_intent
from bot.editor.diff_report import (
    ADDED,
    CHANGED,
    RECENT,
    REMOVED,
    TEST,
    DiffReport,
    EntryChange,
    Outcome,
    QuestionDiff,
    render_diff,
)
from bot.editor.kb_source import KbSourceError, load_kb_at
from bot.editor.recent_questions import StoreNote, read_recent_questions
from bot.kb import KbValidationError, KnowledgeBase, load_kb
from bot.kb.layers import load_layers, merge_layers
from bot.retrieval.builder import build_index
from bot.retrieval.cache import EmbeddingCache
from bot.retrieval.index import FaqIndex, TextEncoder
from bot.retrieval.searcher import FaqSearcher

__all__ = ["DiffReport", "EntryChange", "Outcome", "QuestionDiff", "diff_kb", "entry_changes", "load_kb_at",
           "render_diff", "run_diff"]

Progress = Callable[[int, int], None]


def entry_changes(old: KnowledgeBase, new: KnowledgeBase) -> List[EntryChange]:
    """Entries removed, added and changed (by content hash or file), in that order, each sorted by id."""
    before, after = old.by_id(), new.by_id()
    changes = [EntryChange(i, REMOVED, before[i].title, before[i].path) for i in sorted(set(before) - set(after))]
    changes += [EntryChange(i, ADDED, after[i].title, after[i].path) for i in sorted(set(after) - set(before))]
    for faq_id in sorted(set(before) & set(after)):
        a, b = before[faq_id], after[faq_id]
        if a.content_hash != b.content_hash or a.path != b.path:
            fields = tuple(f.name for f in dataclasses.fields(b)
                           if f.compare and getattr(a, f.name) != getattr(b, f.name))
            changes.append(EntryChange(faq_id, CHANGED, b.title, b.path, fields))
    return changes


def _build(kb: KnowledgeBase, encoder: TextEncoder, cache_dir: Optional[Path],
           tune_for_kb: Optional[Callable[[KnowledgeBase], TextEncoder]],
           progress: Optional[Progress]) -> Tuple[FaqIndex, TextEncoder]:
    """The index ``auskunft kb build`` would publish for ``kb``, and the encoder questions must be embedded with."""
    if tune_for_kb is not None:
        encoder = tune_for_kb(kb)
    return build_index(kb, encoder, cache_of(encoder, cache_dir), progress), encoder


def cache_of(encoder: TextEncoder, cache_dir: Optional[Path]) -> Optional[EmbeddingCache]:
    """The embedding cache of ``encoder`` under ``cache_dir`` (None: no cache)."""
    return EmbeddingCache(cache_dir, encoder.fingerprint) if cache_dir is not None else None


def _outcomes(index: FaqIndex, vectors: np.ndarray, texts: Sequence[str], searcher: FaqSearcher,
              config: DecisionConfig, withdraw: bool) -> List[Outcome]:
    """Rank and decide each text as the bot does on the first turn of a conversation (small talk aside)."""
    found = []
    for vector, text in zip(vectors, texts, strict=True):
        candidates, best = index.search_with_best(vector, k=searcher.top_k, lang=searcher.language_of(text), text=text)
        route = route_intent(text, None, None, -1.0, best, (), config, index.languages.vocabulary)
        decision = decide_turn(route.intent, candidates, ConversationState(), config, index, withdraw)
        found.append(Outcome(decision.action, decision.faq_id, round(decision.confidence, 4),
                             candidates[0].faq_id if candidates else None,
                             tuple(c.faq_id for c in decision.choices)))
    return found


def _test_questions(kb: KnowledgeBase) -> Dict[str, Tuple[str, ...]]:
    """Test question -> the ids of the entries listing it, in kb order."""
    owners: Dict[str, Tuple[str, ...]] = {}
    for entry in kb.entries:
        for question in entry.tests:
            if entry.id not in owners.get(question, ()):
                owners[question] = (*owners.get(question, ()), entry.id)
    return owners


def diff_kb(
    old: KnowledgeBase,
    new: KnowledgeBase,
    questions: Sequence[str],
    encoder: TextEncoder,
    config: DecisionConfig,
    *,
    withdraw: bool = False,
    cache_dir: Optional[Path] = None,
    tune_for_kb: Optional[Callable[[KnowledgeBase], TextEncoder]] = None,
    default_language: str = "de",
    top_k: int = 5,
    labels: Tuple[str, str] = ("alt", "neu"),
    notes: Sequence[StoreNote] = (),
    progress: Optional[Callable[[str], Optional[Progress]]] = None,
    calibrated: bool = False,
) -> DiffReport:
    """Build both kbs like ``auskunft kb build`` and compare what the bot does with each question.

    Args:
        old: the kb as published (e.g. at ``HEAD``).
        new: the kb as edited.
        questions: further questions to check, e.g. the citizens' recent ones (duplicates of tests are dropped).
        encoder: the sentence encoder as shipped.
        config: the bot's thresholds.
        withdraw: the ``withdraw_overdue`` setting, as the bot applies it.
        cache_dir: the embedding cache of ``auskunft kb build``: entries found there are not embedded again.
        tune_for_kb: the build's fine-tuning hook (``finetune_epochs`` > 0); each kb then gets its tuned model.
        default_language: used when a question gives no language evidence.
        top_k: candidates ranked per question, as the bot's retriever.
        labels: how the report names the old and the new kb.
        notes: why recent questions are missing, shown in the report.
        progress: ``progress(label)`` returns a ``(done, total)`` callback for a step, or None.
        calibrated: each kb is decided with its own calibrated thresholds (as the bot would after publishing it),
            ``config``'s other values kept.

    Returns:
        The report; test questions first (by entry), then the further questions in their order.
    """
    started = time.perf_counter()
    old_tests, new_tests = _test_questions(old), _test_questions(new)
    tests = {**new_tests, **{q: owners for q, owners in old_tests.items() if q not in new_tests}}
    order = sorted(tests, key=lambda q: tests[q])  # by entry, each entry's tests in file order
    texts = [*order, *dict.fromkeys(q for q in questions if q.strip() and q not in tests)]
    outcomes: List[List[Outcome]] = []
    encoded: List[Tuple[TextEncoder, np.ndarray]] = []  # the same encoder for both kbs unless each is fine-tuned
    for label, kb in (("old", old), ("new", new)):
        step = progress(f"embedding ({label})") if progress else None
        index, used = _build(kb, encoder, cache_dir, tune_for_kb, step)
        vectors = next((v for e, v in encoded if e is used), None)
        if vectors is None:
            vectors = used.encode(texts) if texts else np.zeros((0, used.dim), dtype=np.float32)
            encoded.append((used, vectors))
        searcher = FaqSearcher(used, index=index, default_language=default_language, top_k=top_k)
        calibration = calibrate(index, used, config, cache_of(used, cache_dir)) if calibrated else None
        shown = calibration.applied_to(config) if calibration else config
        outcomes.append(_outcomes(index, vectors, texts, searcher, shown, withdraw))
    checked = [QuestionDiff(text, TEST if text in tests else RECENT, new_tests.get(text, ()),
                            old_tests.get(text, ()), before, after)
               for text, before, after in zip(texts, outcomes[0], outcomes[1], strict=True)]
    titles = {e.id: e.title for kb in (old, new) for e in kb.entries}
    return DiffReport(labels[0], labels[1], len(old.entries), len(new.entries), entry_changes(old, new), checked,
                      shown, titles, list(notes), time.perf_counter() - started)


def _tracker_environ(home: Path) -> Dict[str, str]:
    """The variables ``endpoints.yml`` is expanded with, as :func:`bot.run.runtime_env.child_env` sets them for Rasa."""
    return {**os.environ, "AUSKUNFT_TRACKER_DB": str(home / "trackers.sqlite3")}


def _layered_at(ref: str, layers: Sequence[Path], commit: List[str]) -> KnowledgeBase:
    """An agency's merged kb at a git ref (every layer), or with a directory as its own layer."""
    if ref.strip() and Path(ref).expanduser().is_dir():
        kbs = [load_kb(layer) for layer in layers[:-1]] + [load_kb(Path(ref).expanduser())]
    else:
        kbs = [load_kb_at(ref, layer, commit) for layer in layers]
    return merge_layers(kbs, [layer.name for layer in layers]).kb


def run_diff(ref: str, kb_dir: Path, recent: int = 200, lang: str = "de", out: TextIO = sys.stdout,
             fail_on_failing_tests: bool = False, layers: Optional[Sequence[Path]] = None) -> int:
    """Compare the kb at ``ref`` (a git ref or a directory) with ``kb_dir`` and print the report.

    With ``layers`` (an agency's kb layers, shared first) the merged kb is compared instead: at a git ref every
    layer as it was then; with a directory, that directory in place of the agency's own (last) layer.

    Uses the configured model, thresholds, embedding cache and fine-tuning (``AUSKUNFT_*``), and the last
    ``recent`` citizen messages from the tracker store of ``AUSKUNFT_ENDPOINTS``.

    Returns:
        0; 1 if ``fail_on_failing_tests`` and a test question fails (for CI); 2 if a kb cannot be read
        (unknown git ref, invalid kb).
    """
    from bot.config.settings import PROJECT_ROOT, get_settings
    from bot.retrieval.assembly import kb_tuner, query_encoder
    from bot.run.progress import progress_printer

    settings = get_settings()
    commit: List[str] = []
    try:
        if layers:
            old, new = _layered_at(ref, layers, commit), load_layers(layers).kb
            kb_dir = layers[-1]
        else:
            old, new = load_kb_at(ref, kb_dir, commit), load_kb(kb_dir)
    except (KbSourceError, KbValidationError) as err:
        print(f"Fehler: {err}", file=sys.stderr)
        return 2
    endpoints = Path(settings.endpoints)
    found = read_recent_questions(recent, _tracker_environ(settings.home),
                                  endpoints if endpoints.is_absolute() else PROJECT_ROOT / endpoints)
    base = query_encoder(settings)
    old_label = f"{ref} ({commit[0][:10]})" if commit else str(ref)
    report = diff_kb(old, new, found.questions, base, settings.decision_config(), withdraw=settings.withdraw_overdue,
                     cache_dir=settings.cache_dir,
                     tune_for_kb=kb_tuner(settings, base),
                     default_language=settings.default_language, labels=(old_label, str(kb_dir)),
                     notes=found.notes, progress=progress_printer, calibrated=settings.calibrated_thresholds)
    out.write(render_diff(report, lang))
    return 1 if fail_on_failing_tests and report.failing else 0
