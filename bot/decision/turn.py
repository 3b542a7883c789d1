"""The one entry point: what the bot does with a message, given how it was routed and the conversation so far.

Every caller that decides goes through :func:`decide_turn`: the bot's actions, the evaluation
(``auskunft eval``, end to end or not), the editors' preview and ``auskunft ask``, ``kb diff`` and
``kb overlap``. So measured quality is the quality citizens get.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Optional, Sequence

from bot.config.decision import DecisionConfig
from bot.decision.lifecycle import EntryLookup, withdraw_overdue
from bot.decision.policy import ANSWER, REPHRASE, SMALLTALK, Decision, confidence_of, decide
from bot.decision.routing import FAQ_INTENT, NOT_UNDERSTOOD
from bot.retrieval.index import Candidate

# Intents the FAQ policy acts on; any other routed intent gets a conversational reply.
POLICY_INTENTS = frozenset({FAQ_INTENT, "ask_human", "none_of_these", "deny", "feedback_not_helpful", "choose_faq"})


@dataclass(frozen=True)
class ConversationState:
    """What the decision needs from the conversation so far.

    Attributes:
        misses_before: consecutive earlier turns that ended without an answer.
        last_answer: the entry answered last, while the citizen has not moved on (for "not helpful" / "Nein").
        chosen: the entry the citizen picked from a clarify step in this message.
    """

    misses_before: int = 0
    last_answer: Optional[str] = None
    chosen: Optional[str] = None


def decide_turn(
    intent: str,
    candidates: Sequence[Candidate],
    state: ConversationState,
    config: DecisionConfig,
    index: EntryLookup,
    withdraw: bool = False,
    today: Optional[date] = None,
) -> Decision:
    """Small talk, "please rephrase", answer, clarify or hand off.

    Args:
        intent: the message's routed intent (:func:`bot.decision.routing.route_intent`).
        candidates: the ranked FAQ candidates of the message, best first.
        state: the conversation so far.
        config: the thresholds.
        index: the index the candidates come from (entries that left it are dropped).
        withdraw: the ``withdraw_overdue`` setting (entries past their review date are never given).
        today: the reference date for review dates (default: today).

    Returns:
        The decision; for small talk its ``reason`` names the intent to reply to.
    """
    ranked = [c for c in candidates if index.entry(c.faq_id) is not None]
    confidence = confidence_of(ranked)
    if intent == NOT_UNDERSTOOD:
        return Decision(REPHRASE, "not_understood", confidence)
    if intent not in POLICY_INTENTS:
        return Decision(SMALLTALK, intent, confidence)
    if intent == "deny" and not state.last_answer:
        return Decision(SMALLTALK, "deny", confidence)
    if intent == "choose_faq" and state.chosen and index.entry(state.chosen) is not None:
        decision = Decision(ANSWER, "chosen", confidence, faq_id=state.chosen)
    else:
        decision = decide(
            ranked,
            config,
            asked_for_human=intent == "ask_human",
            not_helpful=intent in ("deny", "feedback_not_helpful") and bool(state.last_answer),
            choices_rejected=intent == "none_of_these",
            misses_before=state.misses_before,
        )
    return withdraw_overdue(decision, index, withdraw, today)
