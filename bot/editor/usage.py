"""How the FAQ served citizens in the last days: figures and missing topics for content editors.

Questions and decisions come from Rasa's SQL tracker store (:mod:`bot.editor.conversation_log` defines a question
and its decision), tickets and "did this help?" votes from the ticket database.

Definitions, for questions asked (tickets created, votes given) in the ``days`` days up to ``now``:

- *conversations*: conversations with at least one question (the denominator of containment; a conversation with
  greetings or goodbyes only is not one).
- *contained*: conversations the bot served (:mod:`bot.editor.conversation_log`): it gave an answer and its last
  answer was followed neither by "not helpful" (the button or a "Nein") nor by a handoff; and no ticket was created
  in it. A conversation without any answer (a question left unanswered, then a mistaken "Auf Wiedersehen") is not
  contained.
- *answered*: questions the bot answered with an entry (decision ``answer``), helpful or not.
- *unanswered*: questions whose decision is not ``answer``, plus answered questions the citizen's very next message
  marked not helpful (``feedback_not_helpful`` or ``deny``; these keep decision ``answer`` and their ``faq_id``).
  A question without a logged decision whose text a ticket of its conversation names counts as ``handoff``. The
  question of a ticket whose conversation has no question in the tracker log (the log was erased, or Rasa ran with
  another store) counts as one more conversation and one more ``handoff`` question, at the ticket's creation.
- *missing topics*: the (newest 1000) unanswered questions grouped by meaning (:func:`group_questions`), biggest first,
  each with the entry the bot finds nearest to its most central question: a good match suggests adding the phrasing
  to that entry, a poor one a new entry. Redaction placeholders (``[E-MAIL]``, ``[TELEFON]``, ...) are stripped
  before grouping, and a text that is nothing but placeholders, or more placeholders than words, is never a topic
  (:func:`bot.editor.placeholders.topic_text`).
- *FAQ use*: per entry of the index, the questions it answered and the votes it got.

Every text shown is redacted (:func:`bot.privacy.redact.redact`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.editor.conversation_log import ConversationLog, Turn, _read_log, read_turns, tracker_engine
from bot.editor.placeholders import topic_text
from bot.feedback.models import Feedback
from bot.privacy.redact import redact
from bot.retrieval.index import FaqIndex
from bot.retrieval.searcher import FaqSearcher
from bot.tickets.models import Ticket

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["EditorAnalytics", "FaqUse", "TopicGroup", "Turn", "editor_analytics", "group_questions",
           "read_turns", "topic_text", "tracker_engine"]

logger = logging.getLogger(__name__)

# Questions embed in a narrow cone: with e5-small (q4), paraphrases of one need score 0.82-0.93 and different needs
# 0.75-0.90, so raw cosines barely separate topics; centred on the kb's mean phrasing vector (:func:`_centred`) they
# separate better. The threshold was chosen on the dev splits of two public datasets by pairwise F1
# (bench/topic_grouping.py: Integreat German municipal questions, a topic = one page; CLINC150, a topic = one intent);
# both chose 0.57. On their test splits, run once, it gives pairwise F1 0.301 (Integreat) and 0.644 (CLINC150), 1.12x
# and 1.10x the same grouping on raw vectors with its own dev-chosen threshold (0.90 / 0.89).
GROUP_THRESHOLD = 0.57
MAX_EXAMPLES = 5
MISSING_TOPICS = 10
MAX_GROUPED = 1000  # the newest unanswered questions grouped (about 10 ms each to embed on one CPU thread)
_CHUNK = 1024  # rows of the similarity matrix computed at a time


@dataclass(frozen=True)
class TopicGroup:
    """Similar questions the FAQ did not answer, and the entry nearest to them."""

    size: int
    examples: List[str]
    nearest_faq_id: Optional[str]
    nearest_title: Optional[str]
    nearest_score: Optional[float]


@dataclass(frozen=True)
class FaqUse:
    """How often one entry answered in the period, and the votes on it."""

    faq_id: str
    title: str
    owner: str
    answered: int
    helpful: int
    not_helpful: int


@dataclass(frozen=True)
class EditorAnalytics:
    """Everything the editors' usage page shows (see the module doc for the definitions).

    ``unanswered`` is newest first; ``faq_use`` is most answered first, then by id.
    """

    days: int
    conversations: int
    contained: int
    containment_rate: Optional[float]
    questions: int
    answered: int
    unanswered: List[Turn]
    missing_topics: List[TopicGroup]
    faq_use: List[FaqUse]


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def group_questions(texts: Sequence[str], vectors: np.ndarray, threshold: float = GROUP_THRESHOLD,
                    limit: int = MISSING_TOPICS) -> List[Tuple[int, List[int]]]:
    """Group questions whose embeddings are close, biggest group first.

    Greedy star clustering: the question with the most ungrouped questions at cosine ``>= threshold`` becomes a
    group with all of them; repeat on the rest. Every member is within ``threshold`` of its group's centre, so
    groups do not drift along chains of similar questions. Identical texts (ignoring case and spaces) always share
    a group. Ties go to the question that comes first.

    Args:
        texts: the questions.
        vectors: one L2-normalised row per question.
        threshold: the least cosine similarity to the centre; the default is meant for vectors centred on the kb's
            mean phrasing vector, as :func:`editor_analytics` groups them.
        limit: how many groups at most (the biggest).

    Returns:
        ``(size, member indices)`` per group, members ordered by cosine to the group's mean vector (most central
        first, ties in input order).

    Raises:
        ValueError: ``vectors`` has not one row per text.
    """
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise ValueError(f"{len(texts)} texts but vectors of shape {vectors.shape}")
    if not len(texts) or limit <= 0:
        return []
    firsts: Dict[str, int] = {}
    copies: Dict[int, List[int]] = defaultdict(list)  # unique text -> indices of all its occurrences
    for position, text in enumerate(texts):
        copies[firsts.setdefault(_key(text), position)].append(position)
    every = np.asarray(vectors, dtype=np.float32)
    unique = np.array(sorted(copies), dtype=np.int64)
    rows = every[unique]
    weight = np.array([len(copies[int(i)]) for i in unique], dtype=np.int64)
    neighbours: List[np.ndarray] = []
    for start in range(0, len(unique), _CHUNK):
        close = rows[start:start + _CHUNK] @ rows.T >= threshold
        close[np.arange(close.shape[0]), np.arange(start, start + close.shape[0])] = True
        neighbours.extend(np.flatnonzero(row) for row in close)
    free = np.ones(len(unique), dtype=bool)
    groups: List[Tuple[int, List[int]]] = []
    while len(groups) < limit and free.any():
        degree = [int(weight[near[free[near]]].sum()) if free[i] else -1 for i, near in enumerate(neighbours)]
        centre = int(np.argmax(degree))
        members = neighbours[centre][free[neighbours[centre]]]
        free[members] = False
        indices = np.array(sorted(i for member in members for i in copies[int(unique[member])]), dtype=np.int64)
        closeness = np.round(every[indices] @ every[indices].mean(axis=0), 6)
        order = indices[np.lexsort((indices, -closeness))]
        groups.append((len(indices), [int(i) for i in order]))
    return groups


def _examples(texts: Sequence[str], members: Sequence[int]) -> List[str]:
    seen: Set[str] = set()
    found: List[str] = []
    for member in members:
        if _key(texts[member]) not in seen and len(found) < MAX_EXAMPLES:
            seen.add(_key(texts[member]))
            found.append(texts[member])
    return found


def _centred(vectors: np.ndarray, index: FaqIndex, encoder: object) -> np.ndarray:
    """``vectors`` minus the mean phrasing vector of the kb, L2-normalised (the space :data:`GROUP_THRESHOLD` is for).

    The index's own phrasing vectors are used if the encoder built them, else its phrasings are embedded; without
    any entries the questions' own mean is taken.
    """
    if index.meta.get("model") == getattr(encoder, "fingerprint", None) and index.vectors.shape[1:] == \
            vectors.shape[1:] and len(index.vectors):
        mean = index.vectors.mean(axis=0)
    elif index.records:
        phrasings = [text for record in index.records for text in record.phrasings]
        mean = np.asarray(encoder.encode(phrasings), dtype=np.float32).mean(axis=0)  # type: ignore[attr-defined]
    else:
        mean = vectors.mean(axis=0)
    centred = vectors - mean
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return np.asarray(centred / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def _missing_topics(questions: List[str], index: FaqIndex, encoder: object) -> List[TopicGroup]:
    """Group the questions (newest first) by meaning; placeholders stripped, examples shown as asked (redacted)."""
    kept = [(question, text) for question in questions if (text := topic_text(question)) is not None][:MAX_GROUPED]
    if not kept:
        return []
    shown, texts = [question for question, _ in kept], [text for _, text in kept]
    distinct: Dict[str, str] = {}  # each distinct question is embedded once
    for text in texts:
        distinct.setdefault(_key(text), text)
    raw = np.asarray(encoder.encode(list(distinct.values())), dtype=np.float32)  # type: ignore[attr-defined]
    row_of = {key: row for row, key in enumerate(distinct)}
    vectors = _centred(raw, index, encoder)[[row_of[_key(text)] for text in texts]]
    searcher = FaqSearcher(encoder, index=index)
    topics = []
    for size, members in group_questions(texts, vectors, threshold=GROUP_THRESHOLD, limit=MISSING_TOPICS):
        examples = _examples(shown, members)
        try:
            found = searcher.search(texts[members[0]]).candidates
        except ValueError as err:  # the index needs a fine-tuned model this encoder is not
            logger.warning("no nearest entry for a missing topic: %s", err)
            found = []
        best = found[0] if found else None
        topics.append(TopicGroup(size, examples, best.faq_id if best else None, best.title if best else None,
                                 round(best.score, 4) if best else None))
    return topics


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def editor_analytics(tracker_engine: Optional[Engine], session: Session, index: FaqIndex, encoder: object,
                     days: int = 30, now: Optional[datetime] = None, agency: Optional[str] = None,
                     default_agency: Optional[str] = None) -> EditorAnalytics:
    """Containment, answered and unanswered questions, missing topics and per-entry use for the last ``days`` days.

    Args:
        tracker_engine: Rasa's tracker store (:func:`tracker_engine`); None counts tickets only.
        session: the ticket database (tickets and feedback votes).
        index: the live FAQ index: every entry is listed, and missing topics are matched against it.
        encoder: the index's encoder (``encode`` and ``encode_one``, L2-normalised rows).
        days: the length of the period, ending at ``now``.
        now: the end of the period; defaults to the current time.
        agency: count only this agency's conversations, tickets and votes (deployments serving several agencies);
            None counts everything.
        default_agency: the agency of messages and tickets that name none (the default agency's widget).

    Returns:
        The figures, as defined in the module doc.

    Raises:
        ValueError: ``days`` is not positive.
        sqlalchemy.exc.SQLAlchemyError: the tracker store or the ticket database cannot be read.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    until = (_aware(now) if now is not None else datetime.now(timezone.utc)).astimezone(timezone.utc)
    since = until - timedelta(days=days)
    def ours(key: Optional[str]) -> bool:
        return agency is None or (key or default_agency) == agency

    read = _read_log(tracker_engine, since) if tracker_engine is not None else ConversationLog([], frozenset())
    log = [(turn, flag) for turn, flag in read.questions if turn.at <= until and ours(turn.agency)]
    tickets = [(conversation_id, question, created_at) for conversation_id, question, created_at, key
               in session.execute(select(Ticket.conversation_id, Ticket.question, Ticket.created_at, Ticket.agency)
                                  .where(Ticket.created_at >= since, Ticket.created_at <= until)
                                  .order_by(Ticket.created_at, Ticket.id)).all() if ours(key)]
    logged = {turn.conversation_id for turn, _ in log}
    asked: Dict[str, Set[str]] = defaultdict(set)
    for conversation_id, question, _ in tickets:
        asked[conversation_id].add(_key(redact(question or "")))
    for position, (turn, flag) in enumerate(log):  # a question the ticket names, with no decision logged
        if turn.decision == "other" and _key(turn.text) in asked.get(turn.conversation_id, ()):
            log[position] = (dataclasses.replace(turn, decision="handoff"), flag)
    for conversation_id, question, created_at in tickets:
        if conversation_id not in logged:
            logged.add(conversation_id)
            log.append((Turn(conversation_id, redact(" ".join((question or "").split())), _aware(created_at),
                             "handoff", None, None), False))
    conversations = {turn.conversation_id for turn, _ in log}
    contained = len((conversations & read.served) - set(asked))
    unanswered = sorted((turn for turn, flag in log if turn.decision != "answer" or flag),
                        key=lambda turn: (turn.at, turn.conversation_id), reverse=True)
    answers = Counter(turn.faq_id for turn, _ in log if turn.decision == "answer")
    votes: Dict[Tuple[str, bool], int] = defaultdict(int)
    for faq_id, helpful, conversation_id in session.execute(select(
            Feedback.faq_id, Feedback.helpful, Feedback.conversation_id).where(
            Feedback.created_at >= since, Feedback.created_at <= until)):
        if agency is None or conversation_id in conversations:  # a vote belongs to its conversation's agency
            votes[(faq_id, bool(helpful))] += 1
    use = [FaqUse(record.id, record.title, record.owner, answers[record.id], votes[(record.id, True)],
                  votes[(record.id, False)]) for record in index.records]
    use.sort(key=lambda item: (-item.answered, item.faq_id))
    return EditorAnalytics(
        days=days, conversations=len(conversations), contained=contained,
        containment_rate=contained / len(conversations) if conversations else None,
        questions=len(log), answered=sum(answers.values()), unanswered=unanswered,
        missing_topics=_missing_topics([turn.text for turn in unanswered], index, encoder),
        faq_use=use)
