"""``action_smalltalk``: greetings, thanks, goodbye and similar, in the citizen's language."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import candidates, intent, language
from actions.feedback import record_feedback
from actions.texts import say
from bot.config.settings import get_settings
from bot.decision import SMALLTALK, ConversationState, decide_turn

REPLIES = {
    "greet": "greet",
    "goodbye": "goodbye",
    "thanks": "thanks",
    "bot_challenge": "bot_challenge",
    "affirm": "glad",
    "feedback_helpful": "glad",
}


class ActionSmalltalk(Action):
    """Replies to conversational intents."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_smalltalk"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """Say the reply that fits the intent (the one decision confirms it is small talk)."""
        lang = language(tracker)
        name = intent(tracker) or ""
        events: List[EventType] = [SlotSet("lang", lang)]
        decision = decide_turn(name, candidates(tracker), ConversationState(), get_settings().decision_config(),
                               _NO_ENTRIES)
        reply = decision.reason if decision.action == SMALLTALK else "ok"
        if name == "feedback_helpful":
            await record_feedback(tracker, helpful=True)
            events.append(SlotSet("last_faq_id", None))  # one vote per answer
        dispatcher.utter_message(text=say(REPLIES.get(reply, "ok"), lang))
        dispatcher.utter_message(json_message={"decision": SMALLTALK, "intent": name, "lang": lang})
        return events


class _NoEntries:
    """Small talk is decided without the index: no entry is ever looked up."""

    def entry(self, faq_id: str) -> None:
        """No entry."""
        return None


_NO_ENTRIES = _NoEntries()
