"""``action_answer_faq``: apply the decision function and answer, clarify or start the handoff."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import (
    agency,
    candidates,
    intent,
    language,
    last_question,
    last_question_payload,
    question_candidates,
)
from actions.feedback import record_feedback
from actions.live import live_index
from actions.texts import say
from bot.agencies import UnknownAgency
from bot.decision import ANSWER, CLARIFY, Decision, decide
from bot.decision_lifecycle import withdraw_overdue
from bot.retrieval.index import EntryRecord
from bot.settings import get_settings

logger = logging.getLogger(__name__)


def answer_text(entry: EntryRecord, lang: str) -> str:
    """The answer with its source link."""
    return f"{entry.answer}\n\n{say('source', lang)}: [{entry.title}]({entry.source})"


class ActionAnswerFaq(Action):
    """Answers an FAQ, offers choices, or hands the conversation to a person."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """Decide and respond (see :func:`bot.decision.decide`)."""
        lang = language(tracker)
        events: List[EventType] = [SlotSet("lang", lang)]
        settings = get_settings()
        try:
            index = live_index(agency(tracker))
        except (FileNotFoundError, UnknownAgency):
            dispatcher.utter_message(text=say("no_index", lang))
            return events
        name = intent(tracker)
        misses = int(tracker.get_slot("misses") or 0)
        if name == "choose_faq":
            chosen = next(tracker.get_latest_entity_values("faq_id"), None)
            entry = index.entry(str(chosen)) if chosen else None
            if entry is not None:
                return events + self._answer(dispatcher, entry, lang, index.version, score=None,
                                             kb_commit=index.meta.get("kb_commit"))
        last_answer = tracker.get_slot("last_faq_id")
        if name == "feedback_not_helpful":
            await record_feedback(tracker, helpful=False)
        if name == "deny" and not last_answer:
            dispatcher.utter_message(text=say("ok", lang))
            return events
        ranked = [c for c in candidates(tracker) if index.entry(c.faq_id) is not None]
        decision = decide(
            ranked,
            settings.decision_config(),
            asked_for_human=name == "ask_human",
            not_helpful=name in ("deny", "feedback_not_helpful") and bool(last_answer),
            choices_rejected=name == "none_of_these",
            misses_before=misses,
        )
        logger.info("decision %s (%s) confidence %.3f faq %s index %s", decision.action, decision.reason,
                    decision.confidence, decision.faq_id, index.version)
        decision = withdraw_overdue(decision, index, settings.withdraw_overdue)
        if decision.action == ANSWER and decision.faq_id:
            entry = index.entry(decision.faq_id)
            assert entry is not None  # ranked only holds ids present in the index
            return events + self._answer(dispatcher, entry, lang, index.version, score=decision.confidence,
                                         kb_commit=index.meta.get("kb_commit"))
        if decision.action == CLARIFY:
            return events + self._clarify(dispatcher, decision, lang, misses)
        return events + self._handoff(tracker, decision, lang)

    @staticmethod
    def _answer(dispatcher: CollectingDispatcher, entry: EntryRecord, lang: str, version: str,
                score: Optional[float], kb_commit: Optional[object] = None) -> List[EventType]:
        dispatcher.utter_message(
            text=answer_text(entry, lang),
            buttons=[
                {"title": say("helpful", lang), "payload": "/feedback_helpful"},
                {"title": say("not_helpful", lang), "payload": "/feedback_not_helpful"},
            ],
        )
        dispatcher.utter_message(json_message={
            "decision": "answer", "faq_id": entry.id, "source": entry.source, "index_version": version,
            "score": None if score is None else round(score, 4), "plain": entry.plain or None,
            "kb_commit": kb_commit,
        })
        return [SlotSet("last_faq_id", entry.id), SlotSet("misses", 0)]

    @staticmethod
    def _clarify(dispatcher: CollectingDispatcher, decision: Decision, lang: str, misses: int) -> List[EventType]:
        buttons = [{"title": c.title, "payload": f'/choose_faq{{"faq_id":"{c.faq_id}"}}'} for c in decision.choices]
        buttons.append({"title": say("none_of_these", lang), "payload": "/none_of_these"})
        dispatcher.utter_message(text=say("clarify", lang), buttons=buttons)
        dispatcher.utter_message(json_message={
            "decision": "clarify", "candidates": [c.to_dict() for c in decision.choices],
        })
        return [SlotSet("misses", misses + 1), SlotSet("last_faq_id", None)]

    @staticmethod
    def _handoff(tracker: Tracker, decision: Decision, lang: str) -> List[EventType]:
        shown = [c.to_dict() for c in question_candidates(tracker)[:5]]
        return [
            SlotSet("handoff_reason", decision.reason),
            SlotSet("handoff_question", last_question(tracker)),
            SlotSet("handoff_candidates", shown),
            SlotSet("handoff_index_version", last_question_payload(tracker).get("index_version")),
            SlotSet("handoff_consent", None),
            SlotSet("handoff_email", None),
            SlotSet("last_faq_id", None),
            FollowupAction("handoff_form"),
        ]
