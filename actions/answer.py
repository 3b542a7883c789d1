"""``action_answer_faq``: ask the one decision (:func:`bot.decision.decide_turn`) and act on it.

Answer, clarify with choices, ask to rephrase, or start the handoff; the citizen's needs are
tracked (:mod:`actions.needs`) so that a ticket names the question that is still open.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import needs as needs_of
from actions.conversation import agency, candidates, faq_payload, intent, language
from actions.feedback import record_feedback
from actions.live import live_index
from actions.texts import say
from bot.calibration import thresholds_for
from bot.config.agencies import UnknownAgency
from bot.config.settings import get_settings
from bot.decision import (
    ANSWER,
    CLARIFY,
    REPHRASE,
    SMALLTALK,
    ConversationState,
    Decision,
    decide_turn,
    question_besides,
)
from bot.metrics import count_decision
from bot.retrieval.index import EntryRecord

logger = logging.getLogger(__name__)


def answer_text(entry: EntryRecord, lang: str) -> str:
    """The answer with its source link."""
    return f"{entry.answer}\n\n{say('source', lang)}: [{entry.title}]({entry.source})"


class ActionAnswerFaq(Action):
    """Answers an FAQ, offers choices, asks to rephrase, or hands the conversation to a person."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """Decide (see :func:`bot.decision.decide_turn`) and respond."""
        lang = language(tracker)
        events: List[EventType] = [SlotSet("lang", lang)]
        settings = get_settings()
        try:
            index = live_index(agency(tracker))
        except (FileNotFoundError, UnknownAgency):
            dispatcher.utter_message(text=say("no_index", lang))
            return events
        name = intent(tracker) or ""
        misses = int(tracker.get_slot("misses") or 0)
        last_answer = tracker.get_slot("last_faq_id")
        chosen = next(tracker.get_latest_entity_values("faq_id"), None) if name == "choose_faq" else None
        if name == "feedback_not_helpful":
            await record_feedback(tracker, helpful=False)
        ranked = candidates(tracker)
        state = ConversationState(misses_before=misses, last_answer=last_answer, chosen=str(chosen) if chosen else None)
        config = thresholds_for(settings, index.meta)  # the index's calibrated thresholds unless fixed
        decision = decide_turn(name, ranked, state, config, index, settings.withdraw_overdue)
        logger.info("decision %s (%s) confidence %.3f faq %s index %s", decision.action, decision.reason,
                    decision.confidence, decision.faq_id, index.version)
        count_decision(decision.action, decision.reason)  # auskunft_decisions_total, auskunft_handoffs_total
        needs = self._needs(tracker, name, decision, index.version)
        events.append(SlotSet("needs", needs))
        if decision.action == SMALLTALK:
            dispatcher.utter_message(text=say("ok", lang))
            dispatcher.utter_message(json_message={"decision": SMALLTALK, "intent": decision.reason, "lang": lang})
            return events
        if decision.action == REPHRASE:
            dispatcher.utter_message(text=say("not_understood", lang),
                                     buttons=[{"title": say("talk_to_person", lang), "payload": "/ask_human"}])
            dispatcher.utter_message(json_message={"decision": REPHRASE, "reason": decision.reason, "lang": lang})
            return events + [SlotSet("last_faq_id", None)]
        if decision.action == ANSWER and decision.faq_id:
            entry = index.entry(decision.faq_id)
            assert entry is not None  # decide_turn only answers with entries present in the index
            score = None if decision.reason == "chosen" else decision.confidence
            return events + self._answer(dispatcher, entry, lang, index.version, score=score,
                                         kb_commit=index.meta.get("kb_commit"))
        if decision.action == CLARIFY:
            return events + self._clarify(dispatcher, decision, lang, misses)
        return events + self._handoff(decision, needs)

    @staticmethod
    def _needs(tracker: Tracker, name: str, decision: Decision, version: str) -> List[Dict[str, Any]]:
        """The citizen's needs after this turn (see :mod:`actions.needs`)."""
        needs = tracker.get_slot("needs")
        if name == "faq":
            text = str((tracker.latest_message or {}).get("text") or "")[:1000]
            shown = [c.to_dict() for c in candidates(tracker)[:5]]
            version = str(faq_payload(tracker).get("index_version") or version)
            return needs_of.asked(needs, text, shown, version, decision.faq_id if decision.action == ANSWER else None)
        if name == "ask_human":  # "Wie beantrage ich einen Reisepass? Ich möchte mit einem Menschen sprechen."
            question = question_besides(str((tracker.latest_message or {}).get("text") or "")[:1000])
            if question:
                shown = [c.to_dict() for c in candidates(tracker)[:5]]
                version = str(faq_payload(tracker).get("index_version") or version)
                return needs_of.asked(needs, question, shown, version, None)
        if name == "choose_faq" and decision.action == ANSWER and decision.faq_id:
            return needs_of.chosen(needs, decision.faq_id)
        if decision.reason == "not_helpful":
            return needs_of.marked(needs, needs_of.NOT_HELPFUL)
        if decision.reason == "choices_rejected":
            return needs_of.marked(needs, needs_of.REJECTED)
        return needs_of.current(needs)

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
            "kb_commit": kb_commit, "lang": lang,
        })
        return [SlotSet("last_faq_id", entry.id), SlotSet("misses", 0)]

    @staticmethod
    def _clarify(dispatcher: CollectingDispatcher, decision: Decision, lang: str, misses: int) -> List[EventType]:
        buttons = [{"title": c.title, "payload": f'/choose_faq{{"faq_id":"{c.faq_id}"}}'} for c in decision.choices]
        buttons.append({"title": say("none_of_these", lang), "payload": "/none_of_these"})
        dispatcher.utter_message(text=say("clarify", lang), buttons=buttons)
        dispatcher.utter_message(json_message={
            "decision": "clarify", "candidates": [c.to_dict() for c in decision.choices], "lang": lang,
        })
        return [SlotSet("misses", misses + 1), SlotSet("last_faq_id", None)]

    @staticmethod
    def _handoff(decision: Decision, needs: List[Dict[str, Any]]) -> List[EventType]:
        subject = needs_of.handoff_subject(needs)
        return [
            SlotSet("handoff_reason", decision.reason),
            SlotSet("handoff_question", subject.question),
            SlotSet("handoff_candidates", subject.candidates),
            SlotSet("handoff_other_needs", subject.other_needs),
            SlotSet("handoff_index_version", subject.index_version),
            SlotSet("handoff_consent", None),
            SlotSet("handoff_email", None),
            SlotSet("last_faq_id", None),
            FollowupAction("handoff_form"),
        ]
