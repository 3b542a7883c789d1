"""A long conversation gets a new Rasa session (bot/conversations/compaction.py); nothing the citizen sees changes.

Against the real services with the default ``AUSKUNFT_SESSION_COMPACT_EVENTS``: after the new session the
language, the agency and the open question carry over, and the ticket of a later handoff holds the whole
transcript, the messages from before the new session included; "delete my conversation" deletes every session.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any, Dict, List, Optional

import httpx
import pytest

from tests.e2e.conftest import Running

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
FIRST_QUESTION = "I adopted a dog, do I need to pay tax for it?"
HALL = "Ich möchte meinen 60. Geburtstag im Gemeinschaftshaus feiern, kann ich das mieten?"  # adorf's own entry
MAX_FILLER_TURNS = 30


class Citizen:
    """One conversation through ``/api/chat`` as the widget of adorf's German page sends it."""

    def __init__(self, services: Running) -> None:
        self.services, self.sender = services, uuid.uuid4().hex

    def chat(self, text: str) -> Dict[str, Any]:
        """Send ``text``; returns the bot's decision payload (the last ``custom``; {} if none)."""
        response = httpx.post(f"{self.services.web}/api/chat", timeout=60, json={
            "sender": self.sender, "message": text, "lang": "de", "agency": "adorf"})
        assert response.status_code == 200, response.text[:300]
        return last_custom(response.json())

    def rows(self, sql: str) -> List[Any]:
        with sqlite3.connect(self.services.home / "trackers.sqlite3") as db:
            return db.execute(sql, (self.sender,)).fetchall()

    def sessions(self) -> int:
        return int(self.rows("SELECT COUNT(*) FROM events WHERE sender_id = ? AND type_name = 'session_started'")[0][0])


def last_custom(messages: List[Dict[str, Any]]) -> Dict[str, Any]:
    customs = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
    return customs[-1] if customs else {}


def test_a_long_conversation_gets_a_new_session_and_carries_everything_over(services: Running) -> None:
    citizen = Citizen(services)
    assert citizen.chat(FIRST_QUESTION)["faq_id"] == "en-dog-tax"
    assert citizen.chat("/feedback_not_helpful")["step"] == "consent"  # the question stays unresolved
    citizen.chat("/deny")
    assert citizen.sessions() == 1
    fillers = 0
    while citizen.sessions() == 1 and fillers < MAX_FILLER_TURNS:
        assert citizen.chat(["Thank you!", "Hello"][fillers % 2])["decision"] == "smalltalk"
        fillers += 1
    assert citizen.sessions() >= 2, f"no new session after {fillers} turns of small talk"
    started: Optional[float] = citizen.rows("SELECT MAX(timestamp) FROM events WHERE sender_id = ? "
                                            "AND type_name = 'session_started'")[0][0]
    asked = citizen.rows("SELECT MIN(timestamp) FROM events WHERE sender_id = ? AND type_name = 'user'")[0][0]
    assert started is not None and started > asked  # Rasa now loads a session without the first question

    # the language: "ok" does not settle it and the page is German, the conversation's language stays English
    ok = citizen.chat("ok")
    assert ok["lang"] == "en"
    # the agency's own entries are still answered (the widget names the agency with every message)
    hall = citizen.chat(HALL)
    assert hall["decision"] == "answer" and hall["faq_id"] == "adorf-dorfgemeinschaftshaus-mieten"
    # the open question: asking for a person names the question from before the new session
    offer = citizen.chat("I would like to talk to a person, please")
    assert offer["reason"] == "asked_for_human" and offer["step"] == "consent" and offer["lang"] == "en"
    assert citizen.chat("/affirm")["step"] == "email"
    created = citizen.chat("/skip_email")
    ticket = httpx.get(f"{services.web}/api/tickets/{created['case_number']}", timeout=30,
                       headers={"Authorization": f"Bearer {services.token}"}).json()
    assert ticket["question"] == FIRST_QUESTION and ticket["reason"] == "asked_for_human"
    assert ticket["language"] == "en" and ticket["agency"] == "adorf"
    texts = [line["text"] for line in ticket["transcript"]]
    assert texts[0] == FIRST_QUESTION  # the whole conversation, from before the new session on
    assert texts[2] == "[button: feedback_not_helpful]" and texts.count("Thank you!") == (fillers + 1) // 2
    assert texts[-1] == "[button: skip_email]"

    deleted = httpx.delete(f"{services.web}/api/chat/conversation", timeout=30,
                           headers={"X-Auskunft-Conversation": citizen.sender})
    assert deleted.status_code == 204
    assert citizen.rows("SELECT COUNT(*) FROM events WHERE sender_id = ?")[0][0] == 0  # every session
