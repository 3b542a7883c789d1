"""The handoff: ask consent and (optionally) an e-mail address, then create the ticket."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import agency, earlier_events, intent, language, transcript
from actions.live import live_index
from actions.texts import TEXTS, say
from bot.config.agencies import UnknownAgency
from bot.config.settings import get_settings
from bot.metrics import count_handoff_result
from bot.privacy import redact
from bot.run.runtime_env import actions_token
from bot.tickets.client import HandoffRefused, TicketClient, actions_outbox, new_case_number
from bot.tickets.schemas import is_one_address

NO_EMAIL = "-"
_clients: Dict[str, TicketClient] = {}


def ticket_client() -> TicketClient:
    """The process-wide client; tickets queued by an earlier run are delivered on first use."""
    settings = get_settings()
    key = f"{settings.resolved_ticket_service_url}|{settings.home}|{settings.actions_outbox_url}"
    if key not in _clients:
        client = TicketClient(settings.resolved_ticket_service_url, actions_token(settings),
                              actions_outbox(settings.actions_outbox_url, settings.home))
        if len(client.outbox):
            client.start_worker()
        _clients[key] = client
    return _clients[key]


class ActionAskHandoffConsent(Action):
    """Asks whether the conversation may be forwarded."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_ask_handoff_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        """Explain why, then ask with yes/no buttons."""
        lang = language(tracker)
        reason = tracker.get_slot("handoff_reason") or "low_confidence"
        key = f"handoff_{reason}"
        intro = say(key, lang) if key in TEXTS else ""
        dispatcher.utter_message(
            text=f"{intro} {say('ask_consent', lang)}".strip(),
            buttons=[{"title": say("consent_yes", lang), "payload": "/affirm"},
                     {"title": say("consent_no", lang), "payload": "/deny"}],
        )
        dispatcher.utter_message(json_message={"decision": "handoff", "reason": reason, "step": "consent",
                                                 "lang": lang})
        return []


class ActionAskHandoffEmail(Action):
    """Asks for an optional e-mail address."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_ask_handoff_email"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        """Ask, with a button to continue without."""
        lang = language(tracker)
        dispatcher.utter_message(text=say("ask_email", lang),
                                 buttons=[{"title": say("skip_email", lang), "payload": "/skip_email"}])
        dispatcher.utter_message(json_message={"decision": "handoff", "step": "email", "lang": lang})
        return []


class ValidateHandoffForm(FormValidationAction):
    """Validates the handoff form's slots."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "validate_handoff_form"

    async def extract_handoff_consent(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> Dict[Text, Any]:
        """Yes (button or words) gives consent; anything else while asked is a no."""
        if tracker.get_slot("requested_slot") != "handoff_consent":
            return {}
        return {"handoff_consent": intent(tracker) == "affirm"}

    async def extract_handoff_email(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[Text, Any]:
        """The typed text, or 'no e-mail' for the skip button or a no."""
        if tracker.get_slot("requested_slot") != "handoff_email":
            return {}
        if intent(tracker) in ("skip_email", "deny"):
            return {"handoff_email": NO_EMAIL}
        return {"handoff_email": str((tracker.latest_message or {}).get("text") or "").strip()}

    def validate_handoff_consent(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        """A 'no' ends the form at once (no e-mail question)."""
        if value is None:
            return {}
        if value is False:
            return {"handoff_consent": False, "handoff_email": NO_EMAIL}
        return {"handoff_consent": True}

    def validate_handoff_email(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> Dict[Text, Any]:
        """Accept an e-mail address or 'none'; otherwise ask again."""
        if value is None:
            return {}
        text = str(value).strip()
        if text == NO_EMAIL or is_one_address(text):
            return {"handoff_email": text}
        dispatcher.utter_message(text=say("invalid_email", language(tracker)))
        return {"handoff_email": None}


def with_owners(candidates: List[Dict[str, Any]], agency_key: Optional[str] = None) -> List[Dict[str, Any]]:
    """The candidates as the ticket API takes them, each with its kb entry's owner (routes the ticket)."""
    try:
        index = live_index(agency_key)
    except (FileNotFoundError, UnknownAgency):
        index = None
    result = []
    for c in candidates:
        entry = index.entry(str(c["faq_id"])) if index is not None else None
        result.append({"faq_id": c["faq_id"], "title": c.get("title", ""), "score": c["score"],
                       "owner": entry.owner if entry is not None else ""})
    return result


def expectation(status: Dict[str, Any], lang: str) -> str:
    """What the citizen can expect: the office opens at ..., or the position in the queue."""
    if status.get("office_open") is False and status.get("next_opening"):
        try:
            opening = datetime.fromisoformat(str(status["next_opening"]))
        except ValueError:
            return ""
        day = say("weekday_" + str(opening.weekday()), lang)
        return " " + say("out_of_hours", lang, day=day, time=opening.strftime("%H:%M"))
    position = status.get("queue_position")
    if isinstance(position, int) and position > 0:
        return " " + say("queue_position", lang, position=str(position))
    return ""


class ActionCreateTicket(Action):
    """Creates the ticket (or queues it) and tells the citizen the case number."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_create_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        """Build the ticket from the tracker and submit it."""
        lang = language(tracker)
        reset = [SlotSet("handoff_consent", None), SlotSet("handoff_email", None), SlotSet("misses", 0),
                 SlotSet("handoff_reason", None), SlotSet("handoff_candidates", None),
                 SlotSet("handoff_other_needs", None)]
        if tracker.get_slot("handoff_consent") is not True:
            count_handoff_result("declined")
            dispatcher.utter_message(text=say("not_forwarded", lang))
            if intent(tracker) == "faq":  # a new question typed instead of yes/no: not forwarded, but answered
                return reset + await self._answer_new_question(dispatcher, tracker, domain, reset)
            return reset
        email = tracker.get_slot("handoff_email")
        payload = {
            "case_number": new_case_number(),
            "conversation_id": tracker.sender_id,
            "language": lang,
            "reason": tracker.get_slot("handoff_reason") or "low_confidence",
            "question": redact(tracker.get_slot("handoff_question") or "-")[:5000] or "-",
            "candidates": with_owners(tracker.get_slot("handoff_candidates") or [], agency(tracker))[:10],
            "other_needs": [redact(str(q))[:1000] for q in (tracker.get_slot("handoff_other_needs") or [])][:5],
            "transcript": transcript(tracker, await asyncio.to_thread(earlier_events, tracker)),
            "consent": True,
            "email": email if email and email != NO_EMAIL else None,
            "index_version": tracker.get_slot("handoff_index_version"),
            "agency": agency(tracker),
        }
        try:
            status = await asyncio.to_thread(ticket_client().create, payload)
        except HandoffRefused as refused:  # too many handoffs from this address: say so, keep nothing half-done
            count_handoff_result("refused")
            minutes = max(2, math.ceil(refused.retry_after / 60))
            dispatcher.utter_message(text=say("ticket_refused", lang, minutes=str(minutes)))
            dispatcher.utter_message(json_message={"decision": "handoff", "step": "refused", "lang": lang,
                                                   "retry_after": round(refused.retry_after)})
            return reset + [SlotSet("handoff_question", None)]
        count_handoff_result("created" if status is not None else "queued")
        text = say("ticket_created" if status is not None else "ticket_queued", lang, case=payload["case_number"])
        text += expectation(status or {}, lang)
        if payload["email"]:
            text += " " + say("email_note", lang)
        dispatcher.utter_message(text=text)
        dispatcher.utter_message(json_message={
            "decision": "handoff", "step": "created", "case_number": payload["case_number"],
            "queued": status is None, "queue_position": (status or {}).get("queue_position"),
            "office_open": (status or {}).get("office_open"), "next_opening": (status or {}).get("next_opening"),
            "lang": lang,
        })
        return reset + [SlotSet("handoff_question", None)]

    @staticmethod
    async def _answer_new_question(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any],
                                   reset: List[EventType]) -> List[EventType]:
        """Answer the question typed instead of yes/no here, as ``action_answer_faq`` would after the reset.

        Answered in this action, not through ``FollowupAction("action_answer_faq")``: after a follow-up no rule
        predicts ``action_listen``, so RulePolicy's fallback ran ``action_answer_faq`` again and again until
        Rasa's circuit breaker tripped and the conversation went silent. This action ends the form's rule,
        which listens next.
        """
        from actions.answer import ActionAnswerFaq  # here: actions.answer -> actions.feedback -> this module

        after_reset = tracker.copy()
        after_reset.add_slots(reset)
        return await ActionAnswerFaq().run(dispatcher, after_reset, domain)
