"""Rasa's tracker store holds no personal data in clear; the ticket still gets the e-mail and the transcript.

Against the real services (``auskunft run``, endpoints.yml's tracker store): a citizen types an IBAN, a phone
number and an e-mail address, asks for a person and gives an e-mail address in the handoff form. The ``events``
table is then read directly: none of them is there in clear; the ticket has the e-mail address and the redacted
transcript.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any, Dict, List

import httpx
import pytest

from tests.e2e.conftest import Running

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
IBAN, PHONE, TYPED_EMAIL = "DE89 3704 0044 0532 0130 00", "0171 2345678", "anna.beispiel@example.org"
HANDOFF_EMAIL = "anna.kontakt@example.net"
QUESTION = (f"Meine Gebühr wurde von meinem Konto {IBAN} doppelt abgebucht. Bitte rufen Sie mich unter {PHONE} "
            f"an oder schreiben Sie an {TYPED_EMAIL}")
IN_CLEAR = (IBAN, IBAN.replace(" ", ""), PHONE, "2345678", TYPED_EMAIL, HANDOFF_EMAIL, "anna.", "0532 0130")


def last_custom(messages: List[Dict[str, Any]]) -> Dict[str, Any]:
    customs = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
    return customs[-1] if customs else {}


def test_the_tracker_store_keeps_no_personal_data_and_the_ticket_gets_what_it_needs(services: Running) -> None:
    sender = uuid.uuid4().hex
    first = last_custom(services.say(sender, QUESTION))
    assert first.get("decision") in ("answer", "clarify", "handoff"), first
    offer = last_custom(services.say(sender, "Ich möchte bitte mit einem Menschen sprechen"))
    assert offer["decision"] == "handoff" and offer["step"] == "consent", offer
    assert last_custom(services.say(sender, "/affirm"))["step"] == "email"
    created = services.say(sender, HANDOFF_EMAIL)
    case = last_custom(created)["case_number"]
    assert "angegebene E-Mail-Adresse" in "\n".join(m.get("text", "") for m in created)

    with sqlite3.connect(services.home / "trackers.sqlite3") as db:
        rows = [row[0] for row in db.execute("SELECT data FROM events WHERE sender_id = ?", (sender,))]
    assert len(rows) > 10
    leaks = sorted({secret for row in rows for secret in IN_CLEAR if secret in row})
    assert leaks == [], f"the tracker store holds in clear: {leaks}"
    stored = "\n".join(rows)
    assert "[IBAN]" in stored and "[TELEFON]" in stored and "[E-MAIL]" in stored

    ticket = httpx.get(f"{services.web}/api/tickets/{case}", timeout=30,
                       headers={"Authorization": f"Bearer {services.token}"}).json()
    assert ticket["email"] == HANDOFF_EMAIL and ticket["consent"] is True
    citizen = [line["text"] for line in ticket["transcript"] if line["role"] == "citizen"]
    assert citizen[0] == ("Meine Gebühr wurde von meinem Konto [IBAN] doppelt abgebucht. Bitte rufen Sie mich "
                          "unter [TELEFON] an oder schreiben Sie an [E-MAIL]"), citizen
    shown = str(ticket["transcript"]) + ticket["question"] + str(ticket.get("other_needs"))
    assert not [secret for secret in IN_CLEAR if secret in shown]

    after = last_custom(services.say(sender, "Wann wird der Sperrmüll abgeholt?"))  # the bot goes on as before
    assert after.get("decision") in ("answer", "clarify"), after
