"""Custom actions run as Rasa would: a tracker, a dispatcher, the events and messages they return."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

DOMAIN: Dict[str, Any] = {"slots": {}, "forms": {"handoff_form": {"required_slots": ["handoff_consent",
                                                                                      "handoff_email"]}}}


def candidate(faq_id: str, score: float, lang: str = "de") -> Dict[str, Any]:
    return {"faq_id": faq_id, "score": score, "title": f"Titel {faq_id}", "matched": "", "lang": lang,
            "source": "https://musterstadt.example/x"}


def tracker(intent: str = "faq", text: str = "Frage", candidates: Optional[List[Dict[str, Any]]] = None,
            lang: str = "de", slots: Optional[Dict[str, Any]] = None, entities: Optional[list] = None,
            events: Optional[list] = None) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or [],
              "faq": {"candidates": candidates or [], "lang": lang, "index_version": "v1"}}
    return Tracker("citizen-1", slots or {}, latest, events or [], False, None, {}, "action_listen")


def run(action: Any, track: Tracker) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, DOMAIN))
    return events, dispatcher.messages


def handoff_tracker(consent: Optional[bool]) -> Tracker:
    events = [
        {"event": "user", "text": "Wie bekomme ich einen Angelschein? Meine Nummer: 0171 2345678",
         "timestamp": 1_790_000_000.0, "parse_data": {"intent": {"name": "faq"}}},
        {"event": "bot", "text": "Darf ich weiterleiten?", "timestamp": 1_790_000_001.0},
        {"event": "user", "text": "/affirm", "timestamp": 1_790_000_002.0,
         "parse_data": {"intent": {"name": "affirm"}}},
    ]
    slots = {"handoff_consent": consent, "handoff_email": "-", "handoff_reason": "low_confidence",
             "handoff_question": "Wie bekomme ich einen Angelschein? Meine Nummer: 0171 2345678",
             "handoff_candidates": [candidate("sperrmuell", 0.41)],
             "handoff_other_needs": ["Wo melde ich meinen Hund an? Mail: anna@example.org"]}
    return tracker(intent="skip_email", text="/skip_email", slots=slots, events=events)
