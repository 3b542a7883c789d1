"""What the bot does with a message: one entry point, :func:`decide_turn`, used by every caller.

Modules: :mod:`~bot.config.decision` (thresholds), :mod:`~bot.decision.content` (is there anything
to understand), :mod:`~bot.decision.routing` (small talk vs FAQ vs not understood),
:mod:`~bot.decision.person_request` (an explicit request for a person, also beside a question),
:mod:`~bot.decision.policy` (answer / clarify / hand off on the retrieval score),
:mod:`~bot.decision.lifecycle` (overdue entries withdrawn) and :mod:`~bot.decision.turn` (all of it).
"""

from bot.config.decision import DecisionConfig
from bot.decision.person_request import asks_for_person, question_besides
from bot.decision.policy import ANSWER, CLARIFY, HANDOFF, REPHRASE, SMALLTALK, Decision, confidence_of
from bot.decision.routing import FAQ_INTENT, NOT_UNDERSTOOD, IntentExamples, Route, route_intent
from bot.decision.turn import ConversationState, decide_turn

__all__ = [
    "ANSWER", "CLARIFY", "HANDOFF", "REPHRASE", "SMALLTALK", "FAQ_INTENT", "NOT_UNDERSTOOD",
    "ConversationState", "Decision", "DecisionConfig", "IntentExamples", "Route",
    "asks_for_person", "confidence_of", "decide_turn", "question_besides", "route_intent",
]
