"""A conversation with personal data in Rasa events: a question with an IBAN, a phone number and an e-mail
address, quoted by the bot and kept in the free-text slots, then the handoff form's e-mail turn.
"""

from __future__ import annotations

from typing import List

from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SlotSet, UserUttered

EMAIL, PHONE, IBAN = "max.muster@example.org", "0171 2345678", "DE89 3704 0044 0532 0130 00"
SECRETS = (EMAIL, PHONE, IBAN, "max.muster", "2345678", "0532 0130")
QUESTION = f"Mein Konto {IBAN} wurde belastet, rufen Sie mich an: {PHONE} oder {EMAIL}"


def question_turn() -> List[Event]:
    """The citizen asks with personal data; the bot quotes the question and offers a button; the slots keep it."""
    return [
        UserUttered(QUESTION, {"name": "faq", "confidence": 0.3},
                    parse_data={"text": QUESTION, "intent": {"name": "faq", "confidence": 0.3},
                                "entities": [{"entity": "contact", "value": EMAIL, "start": 0, "end": 1}],
                                "metadata": {"note": PHONE}},
                    metadata={"agency": "adorf", "note": EMAIL}),
        ActionExecuted("action_answer_faq"),
        BotUttered(f"Sie fragten: {QUESTION}", {"buttons": [{"title": f"Ja, {EMAIL}", "payload": f"/affirm {EMAIL}"}],
                                                "custom": {"decision": "handoff", "faq_id": "kfz-2024-01-05"}}),
        SlotSet("handoff_question", QUESTION), SlotSet("lang", "de"),
        SlotSet("needs", [{"question": QUESTION, "state": "open", "faq_id": "kfz-2024-01-05",
                           "index_version": "2024-01-05T10:00:00",
                           "candidates": [{"faq_id": "wahl", "title": "Europawahl am 09.06.2024", "score": 0.4}]}]),
        SlotSet("handoff_other_needs", [QUESTION]),
        ActionExecuted("action_listen"),
    ]


def email_turn() -> List[Event]:
    """The handoff form's e-mail question answered and the ticket created in the same turn."""
    return [UserUttered(EMAIL, {"name": "inform", "confidence": 1.0}), ActionExecuted("handoff_form"),
            SlotSet("handoff_email", EMAIL), ActiveLoop(None), ActionExecuted("action_create_ticket"),
            BotUttered("Ihre Anfrage ist angekommen."), SlotSet("handoff_email", None),
            ActionExecuted("action_listen")]
