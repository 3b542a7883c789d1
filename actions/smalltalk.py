"""``action_smalltalk``: greetings, thanks, goodbye and similar, in the citizen's language."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import intent, language
from actions.feedback import record_feedback
from actions.texts import say

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
        """Say the reply that fits the intent."""
        lang = language(tracker)
        name = intent(tracker) or ""
        events: List[EventType] = [SlotSet("lang", lang)]
        if name == "feedback_helpful":
            await record_feedback(tracker, helpful=True)
            events.append(SlotSet("last_faq_id", None))  # one vote per answer
        dispatcher.utter_message(text=say(REPLIES.get(name, "ok"), lang))
        return events
