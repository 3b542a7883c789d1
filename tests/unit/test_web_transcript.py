"""A ticket's transcript as the staff see it: the bot's lines rendered, buttons by their labels, decision on hover;
and the action server recording the buttons, the choice and the decision in the first place."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker

from actions.conversation import transcript
from bot.tickets.schemas import TranscriptLine
from bot.web.transcript import decision_hint, view_lines

CLARIFY = {"role": "bot", "text": "Meinten Sie eines davon?", "options": ["Personalausweis", "Reisepass", "Nichts davon"],
           "decision": "clarify", "score": 0.53}


def test_bot_markdown_is_rendered_and_citizen_text_stays_text() -> None:
    lines = view_lines([{"role": "citizen", "text": "**nicht fett** <b>"},
                        {"role": "bot", "text": "Bitte **so schnell wie möglich** [hier](https://a.example)."}])
    assert lines[0]["html"] is None and lines[0]["text"] == "**nicht fett** <b>"  # the widget shows it literally
    assert "<strong>so schnell wie möglich</strong>" in lines[1]["html"]
    assert '<a href="https://a.example" target="_blank"' in lines[1]["html"]


def test_the_chosen_option_is_marked_and_the_click_shows_its_label() -> None:
    lines = view_lines([CLARIFY, {"role": "citizen", "text": "[button: choose_faq]", "choice": "Reisepass"}])
    assert lines[0]["options"] == [{"title": "Personalausweis", "chosen": False},
                                   {"title": "Reisepass", "chosen": True}, {"title": "Nichts davon", "chosen": False}]
    assert lines[1]["text"] == "Reisepass" and lines[1]["choice"] is True


def test_clicks_of_older_tickets_get_the_widget_labels() -> None:
    lines = view_lines([{"role": "citizen", "text": "[button: feedback_not_helpful]"},
                        {"role": "citizen", "text": "[button: choose_faq]"},
                        {"role": "citizen", "text": "[button: some_new_intent]"},
                        {"role": "citizen", "text": "Ich schrieb [button: affirm] selbst"}])
    assert [line["text"] for line in lines] == ["Nein, hat nicht geholfen", "einen der Vorschläge",
                                                "some new intent", "Ich schrieb [button: affirm] selbst"]
    assert [line["choice"] for line in lines] == [True, True, True, False]


def test_the_decision_and_score_become_the_hover_text() -> None:
    assert decision_hint(CLARIFY) == "Entscheidung: Rückfrage mit Vorschlägen · Ähnlichkeit 0,53"
    assert decision_hint({"decision": "answer", "faq_id": "ummeldung", "score": 0.871}) == \
        "Entscheidung: Antwort aus der FAQ · Eintrag ummeldung · Ähnlichkeit 0,87"
    assert decision_hint({"text": "alt"}) == "" and view_lines([{"role": "bot", "text": "x"}])[0]["hint"] == ""


def test_malformed_lines_do_not_break_the_page() -> None:
    lines = view_lines(["kaputt", {"role": "bot", "text": None, "options": "kein Array", "at": "gestern"}])
    assert len(lines) == 1 and lines[0]["at"] is None and lines[0]["options"] == []


def _events() -> List[Dict[str, Any]]:
    buttons = [{"title": "Personalausweis", "payload": '/choose_faq{"faq_id":"personalausweis"}'},
               {"title": "Nichts davon", "payload": "/none_of_these"}]
    return [
        {"event": "user", "text": "Ausweis weg", "timestamp": 1000.0, "parse_data": {"intent": {"name": "faq"}}},
        {"event": "bot", "text": "Meinten Sie eines davon?", "timestamp": 1001.0, "data": {"buttons": buttons}},
        {"event": "bot", "text": None, "timestamp": 1001.1, "data": {"custom": {
            "decision": "clarify", "candidates": [{"faq_id": "personalausweis", "score": 0.5312}]}}},
        {"event": "user", "text": '/choose_faq{"faq_id":"personalausweis"}', "timestamp": 1002.0,
         "parse_data": {"intent": {"name": "choose_faq"}}},
        {"event": "bot", "text": "Beantragen Sie **sofort** einen neuen.", "timestamp": 1003.0},
        {"event": "bot", "timestamp": 1003.1, "data": {"custom": {"decision": "answer", "faq_id": "personalausweis",
                                                                  "score": None}}},
        {"event": "user", "text": '/choose_faq{"faq_id":"gefaelscht"}', "timestamp": 1004.0,
         "parse_data": {"intent": {"name": "choose_faq"}}},
    ]


def test_the_action_server_records_options_choice_and_decision() -> None:
    track = Tracker("citizen", {}, {"text": "/affirm", "intent": {"name": "affirm"}}, _events(), False, None, {},
                    "action_listen")
    lines = transcript(track)
    assert [line["role"] for line in lines] == ["citizen", "bot", "citizen", "bot", "citizen"]
    assert lines[1]["options"] == ["Personalausweis", "Nichts davon"]
    assert lines[1]["decision"] == "clarify" and lines[1]["score"] == 0.5312
    assert lines[2] == {"role": "citizen", "text": "[button: choose_faq]", "at": lines[2]["at"],
                        "choice": "Personalausweis"}
    assert lines[3]["decision"] == "answer" and lines[3]["faq_id"] == "personalausweis" and "score" not in lines[3]
    assert "choice" not in lines[4]  # a typed payload no button offered names nothing
    assert all(TranscriptLine(**line) for line in lines)  # the ticket API accepts every line
