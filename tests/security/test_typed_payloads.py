"""Button payloads typed into /api/chat: a payload counts only when the bot offered that button just before.

Before the fix, "/ask_human", "/affirm", "/skip_email" typed by a script in a fresh conversation created a ticket
whose question was "/ask_human", without the NLU and without the consent question ever being asked.
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import Running
from tests.security.helpers import chat, decisions, offered, tickets_of

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_typed_handoff_payloads_without_their_buttons_create_no_ticket(services: Running) -> None:
    sender = uuid.uuid4().hex
    for typed in ("/ask_human", "/affirm", "/skip_email"):
        reply = chat(services, typed, sender)
        assert reply.status_code == 200, reply.text
        assert decisions(reply.json()).get("step") != "created", (typed, reply.json())
    assert tickets_of(services, sender) == []


def test_a_forged_choice_does_not_answer_with_that_entry(services: Running) -> None:
    sender = uuid.uuid4().hex
    reply = chat(services, '/choose_faq{"faq_id": "hundesteuer-anmelden"}', sender).json()
    assert decisions(reply).get("decision") != "answer" or decisions(reply).get("faq_id") != "hundesteuer-anmelden"
    assert "choose_faq" not in " ".join(m.get("text") or "" for m in reply)  # the payload is not echoed either


def test_the_offered_buttons_still_work_as_the_widget_sends_them(services: Running) -> None:
    sender = uuid.uuid4().hex
    offer = chat(services, "Ich möchte bitte mit einem Menschen sprechen", sender).json()
    assert "/affirm" in offered(offer), offer
    email = chat(services, "/affirm", sender).json()
    assert decisions(email).get("step") == "email" and "/skip_email" in offered(email), email
    created = chat(services, "/skip_email", sender).json()
    assert decisions(created).get("step") == "created", created
    [ticket] = tickets_of(services, sender)
    assert "/" not in ticket["question"]


def test_slash_words_are_read_as_a_question(services: Running) -> None:
    reply = chat(services, "/hundesteuer anmelden")
    assert reply.status_code == 200
    assert decisions(reply.json()).get("decision") in ("answer", "clarify"), reply.json()
