"""Ask as a citizen: what the bot would do with one question, and why (editor preview, ``auskunft ask``).

The same steps as the live bot: rank the entries, route the message (small talk, not understood,
question) and decide with :func:`bot.decision.decide_turn`. Conversation context (earlier misses,
"none of these") is not part of a single question and so not simulated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Dict, List, Optional, Tuple

from bot.config.settings import PROJECT_ROOT
from bot.decision import ANSWER, CLARIFY, ConversationState, DecisionConfig, IntentExamples, decide_turn, route_intent
from bot.decision.lifecycle import overdue
from bot.decision.routing import FAQ_INTENT
from bot.retrieval.searcher import FaqSearcher, SearchResult

NLU_FILE = PROJECT_ROOT / "data" / "nlu.yml"
_intents: Dict[Tuple[int, str], IntentExamples] = {}


def shipped_intents(encoder: object) -> IntentExamples:
    """The conversational examples of ``data/nlu.yml`` in ``encoder``'s space, as the trained bot has them."""
    key = (id(encoder), str(getattr(encoder, "name", "")))
    if key not in _intents:
        _intents.clear()  # one encoder at a time (the live index's)
        _intents[key] = IntentExamples.from_nlu_file(NLU_FILE, encoder.encode)  # type: ignore[attr-defined]
    return _intents[key]


@dataclass(frozen=True)
class PreviewCandidate:
    """One ranked entry: its id, title, score, the phrasing that matched best, the owner and whether it is overdue.

    ``overdue`` means the entry's review date has passed (it is withdrawn only with ``withdraw_overdue``).
    """

    faq_id: str
    title: str
    score: float
    matched: str
    owner: str
    lang: str
    source: str
    overdue: bool = False


@dataclass(frozen=True)
class Preview:
    """The bot's decision on one question, the candidates behind it and the answer it would give.

    Attributes:
        question: the question as asked.
        lang: the language searched in.
        action: ``answer``, ``clarify`` or ``handoff``.
        reason: why (e.g. ``confident``, ``uncertain``, ``low_confidence``, ``withdrawn``).
        confidence: the best candidate's score, which the thresholds apply to.
        faq_id: the entry answered with (or withdrawn), if any.
        choices: the entry ids a clarify step offers.
        candidates: the ranked entries, best first.
        answer: the answer text citizens would get (None unless ``action`` is ``answer``).
        plain: its plain-language version, if the entry has one.
        title: the answered entry's title.
        source: the answered entry's source link.
        index_version: the index searched.
        kb_commit: the kb commit the index was built from (``index.meta``), if recorded.
        result: the raw search result (``auskunft ask --json``).
    """

    question: str
    lang: str
    action: str
    reason: str
    confidence: float
    faq_id: Optional[str]
    choices: Tuple[str, ...]
    candidates: List[PreviewCandidate]
    answer: Optional[str]
    plain: Optional[str]
    title: Optional[str]
    source: Optional[str]
    index_version: str
    kb_commit: Optional[str]
    result: SearchResult = field(repr=False, compare=False)

    def to_dict(self) -> Dict[str, object]:
        """The JSON form of ``auskunft ask --json``: decision, reason, entry, then the search result."""
        return {"decision": self.action, "reason": self.reason, "faq_id": self.faq_id, **self.result.to_dict()}


def preview(question: str, searcher: FaqSearcher, config: DecisionConfig, withdraw_overdue: bool,
            lang: Optional[str] = None, today: Optional[date] = None,
            intents: Optional[IntentExamples] = None) -> Preview:
    """What the bot would do with ``question`` as the first message of a conversation.

    Args:
        question: the citizen's question.
        searcher: the searcher over the index to ask (the live one, or a fixed one in tests).
        config: the decision thresholds.
        withdraw_overdue: the ``withdraw_overdue`` setting (entries past their review date are never given).
        lang: the page's language (``de`` or ``en``), used like the bot does when the text does not settle it.
        today: the reference date for review dates (default: today).
        intents: the conversational intents' examples in the index's space (None: those of ``data/nlu.yml``).

    Returns:
        The decision with its candidates and answer.

    Raises:
        FileNotFoundError: no index has been published yet.
    """
    today = today or date.today()
    index = searcher.index()
    result = searcher.search(question, lang_hint=lang)
    intents = intents if intents is not None else shipped_intents(result.encoder or searcher.encoder)
    nearest, similarity = intents.nearest(result.vector) if result.vector is not None else (None, -1.0)
    conversational = set(intents.labels) - {FAQ_INTENT}
    route = route_intent(question, None, nearest, similarity, result.best_phrasing, conversational, config,
                         index.languages.vocabulary)
    decision = decide_turn(route.intent, result.candidates, ConversationState(), config, index, withdraw_overdue,
                           today)
    candidates = []
    for cand in result.candidates:
        record = index.entry(cand.faq_id)
        candidates.append(PreviewCandidate(cand.faq_id, cand.title, float(cand.score), cand.matched,
                                           record.owner if record is not None else "", cand.lang, cand.source,
                                           overdue(index, cand.faq_id, today)))
    entry = index.entry(decision.faq_id) if decision.action == ANSWER and decision.faq_id else None
    commit = index.meta.get("kb_commit")
    return Preview(
        question=question, lang=result.lang, action=decision.action, reason=decision.reason,
        confidence=float(decision.confidence), faq_id=decision.faq_id,
        choices=tuple(c.faq_id for c in decision.choices) if decision.action == CLARIFY else (),
        candidates=candidates, answer=entry.answer if entry is not None else None,
        plain=(entry.plain or None) if entry is not None else None,
        title=entry.title if entry is not None else None, source=entry.source if entry is not None else None,
        index_version=result.index_version, kb_commit=str(commit) if commit else None, result=result,
    )
