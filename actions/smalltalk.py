"""``action_smalltalk``: greetings, thanks, goodbye and similar, in the citizen's language."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import intent, language
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
        dispatcher.utter_message(text=say(REPLIES.get(intent(tracker) or "", "ok"), lang))
        return [SlotSet("lang", lang)]
