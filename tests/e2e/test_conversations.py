"""End to end over HTTP against the real services: German conversations, a ticket, bad input, live kb edits."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.e2e.conftest import Running

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def texts(messages: list) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def custom(messages: list) -> dict:
    return next(m["custom"] for m in messages if "custom" in m)


def test_german_conversation_ends_in_an_answer_with_source(services: Running) -> None:
    sender = uuid.uuid4().hex
    greeting = services.say(sender, "Guten Tag")
    assert "Assistent" in texts(greeting)
    answer = services.say(sender, "Mein Personalausweis wurde mir gestohlen, was muss ich jetzt machen?")
    assert custom(answer)["decision"] == "answer"
    assert custom(answer)["faq_id"] == "personalausweis-verloren"
    assert "Quelle: [" in texts(answer) and "](https://" in texts(answer)
    thanks = services.say(sender, "Danke!")
    assert "Gern geschehen" in texts(thanks)


def test_english_question_gets_an_english_answer(services: Running) -> None:
    answer = services.say(uuid.uuid4().hex, "I just moved here. How do I register my new address?")
    assert custom(answer)["faq_id"] == "en-register-address"
    assert "Source: [" in texts(answer)


def test_unknown_question_ends_in_a_ticket_that_the_api_returns(services: Running) -> None:
    sender = uuid.uuid4().hex
    offer = services.say(sender, "Wie bekomme ich einen Fischereischein für den Stadtsee?")
    assert custom(offer)["decision"] in ("clarify", "handoff")  # never a confident wrong answer
    if custom(offer)["decision"] == "clarify":
        assert offer[0]["buttons"][-1]["payload"] == "/none_of_these"
        offer = services.say(sender, "/none_of_these")
    assert custom(offer)["decision"] == "handoff" and custom(offer)["step"] == "consent"
    assert [b["payload"] for b in offer[0]["buttons"]] == ["/affirm", "/deny"]
    email_question = services.say(sender, "/affirm")
    assert "E-Mail" in texts(email_question)
    created = services.say(sender, "buerger@example.org")
    case = custom(created)["case_number"]
    assert case in texts(created) and custom(created)["queued"] is False
    ticket = httpx.get(f"{services.web}/api/tickets/{case}",
                       headers={"Authorization": f"Bearer {services.token}"}).json()
    assert ticket["question"] == "Wie bekomme ich einen Fischereischein für den Stadtsee?"
    assert ticket["email"] == "buerger@example.org" and ticket["consent"] is True
    assert ticket["reason"] in ("low_confidence", "choices_rejected") and ticket["language"] == "de"
    assert ticket["candidates"] and all(0 < c["score"] < 1 for c in ticket["candidates"])
    roles = [line["role"] for line in ticket["transcript"]]
    assert roles[0] == "citizen" and "bot" in roles
    assert ticket["transcript"][0]["text"] == "Wie bekomme ich einen Fischereischein für den Stadtsee?"
    after = services.say(sender, "Wann wird der Sperrmüll abgeholt?")  # the bot continues normally
    assert custom(after)["decision"] in ("answer", "clarify")


def test_citizen_can_ask_for_a_human_and_decline(services: Running) -> None:
    sender = uuid.uuid4().hex
    offer = services.say(sender, "Ich möchte bitte mit einem Menschen sprechen")
    assert custom(offer)["reason"] == "asked_for_human"
    declined = services.say(sender, "/deny")
    assert "nichts weitergeleitet" in texts(declined)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"sender": "s1", "message": ""}, 400),
        ({"sender": "s1", "message": "   \n  "}, 400),
        ({"sender": "s1", "message": "x" * 100_000}, 413),
        ({"sender": "s1", "message": "\x00\x01\x02\x03"}, 400),
        ({"sender": "s1", "message": 12}, 400),
        ({"sender": "", "message": "Hallo"}, 400),
        ({"message": "Hallo"}, 400),
        ([1, 2, 3], 400),
    ],
)
def test_bad_input_gets_a_4xx_and_the_bot_keeps_working(services: Running, body: object, status: int) -> None:
    response = httpx.post(f"{services.rasa}/webhooks/rest/webhook", json=body, timeout=30)
    assert response.status_code == status
    assert "error" in response.json()
    assert services.say(uuid.uuid4().hex, "Hallo")  # still answering


def test_malformed_json_and_binary_bodies(services: Running) -> None:
    url = f"{services.rasa}/webhooks/rest/webhook"
    assert httpx.post(url, content=b"{not json", headers={"content-type": "application/json"}).status_code == 400
    assert httpx.post(url, content=b"\xff\xfe\x00\x01", headers={"content-type": "application/json"}).status_code == 400


def test_html_in_a_message_is_not_echoed(services: Running) -> None:
    reply = services.say(uuid.uuid4().hex, "<img src=x onerror=alert(1)><script>alert(2)</script>")
    assert "<img" not in texts(reply) and "<script" not in texts(reply)
    assert all(m.get("custom", {}).get("decision") != "answer" for m in reply)


def test_kb_edit_is_answered_without_restart_within_10_seconds(services: Running) -> None:
    path = services.kb / "abfall" / "sperrmuell-anmelden.md"
    marker = f"Neuer Hinweis {uuid.uuid4().hex[:6]}"
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---\n")
    path.write_text(f"{head}{sep}{marker}. {body}", encoding="utf-8")
    saved = time.monotonic()
    while time.monotonic() - saved < 10:
        reply = services.say(uuid.uuid4().hex, "Wie melde ich Sperrmüll zur Abholung an?")
        if marker in texts(reply):
            break
        time.sleep(0.25)
    assert marker in texts(reply), "edited answer not live within 10 s"


def test_broken_kb_edit_keeps_the_last_good_answers(services: Running) -> None:
    broken = services.kb / "abfall" / "kaputt.md"
    broken.write_text("---\nid: kaputt\nlang: xx\n---\n", encoding="utf-8")
    try:
        time.sleep(2.5)  # the watcher polls every second
        reply = services.say(uuid.uuid4().hex, "Mein Personalausweis wurde mir gestohlen, was muss ich tun?")
        assert custom(reply)["faq_id"] == "personalausweis-verloren"
        log = (services.home / "logs" / "kb-watch.log").read_text()
        assert "kaputt.md:3: lang: must be one of de, en" in log
    finally:
        broken.unlink()


def test_startup_was_timed(services: Running) -> None:
    assert services.startup_seconds > 0  # the tidy shutdown is checked when the session's services stop
