"""Custom actions as (tracker, domain) -> events + messages, against a real published index and ticket API."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerFaq
from actions.handoff import ActionAskHandoffConsent, ActionCreateTicket, ValidateHandoffForm
from actions.smalltalk import ActionSmalltalk
from bot.config.settings import get_settings
from bot.publish.build import build_and_publish
from tests.conftest import HashEncoder
from tests.helpers.actions import DOMAIN, candidate, handoff_tracker, run, tracker
from tests.helpers.servers import ServerThread, free_port


@pytest.fixture
def home(isolated_settings: Path, mini_kb: Path) -> Path:
    settings = get_settings()
    build_and_publish(mini_kb, settings.index_dir, settings.cache_dir, HashEncoder())
    return isolated_settings


def test_confident_question_gets_the_answer_with_source_and_id(home: Path) -> None:
    events, messages = run(ActionAnswerFaq(), tracker(candidates=[candidate("sperrmuell", 0.95),
                                                                  candidate("personalausweis", 0.5)]))
    assert "zweimal im Jahr kostenlos" in messages[0]["text"]
    assert "[Wie melde ich Sperrmüll an?](https://musterstadt.example/sperrmuell)" in messages[0]["text"]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/feedback_helpful", "/feedback_not_helpful"]
    assert messages[1]["custom"]["faq_id"] == "sperrmuell"
    assert SlotSet("last_faq_id", "sperrmuell") in events and SlotSet("misses", 0) in events


def test_close_candidates_are_offered_as_buttons(home: Path) -> None:
    events, messages = run(ActionAnswerFaq(), tracker(candidates=[candidate("sperrmuell", 0.85),
                                                                  candidate("personalausweis", 0.84)]))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ['/choose_faq{"faq_id":"sperrmuell"}', '/choose_faq{"faq_id":"personalausweis"}',
                        "/none_of_these"]
    assert SlotSet("misses", 1) in events


def test_a_click_on_a_choice_answers_that_entry(home: Path) -> None:
    entities = [{"entity": "faq_id", "value": "personalausweis"}]
    _, messages = run(ActionAnswerFaq(), tracker(intent="choose_faq", text='/choose_faq{"faq_id":"personalausweis"}',
                                                 entities=entities))
    assert "46,00 €" in messages[0]["text"]


def test_low_confidence_starts_the_handoff_form(home: Path) -> None:
    events, messages = run(ActionAnswerFaq(), tracker(text="Wie wird das Wetter?",
                                                      candidates=[candidate("sperrmuell", 0.1)]))
    assert messages == []
    assert events[-1] == FollowupAction("handoff_form")
    assert SlotSet("handoff_reason", "low_confidence") in events
    assert SlotSet("handoff_consent", None) in events


def test_stale_candidates_from_an_older_index_are_ignored(home: Path) -> None:
    events, _ = run(ActionAnswerFaq(), tracker(candidates=[candidate("deleted-entry", 0.99)]))
    assert SlotSet("handoff_reason", "no_candidates") in events


@pytest.mark.parametrize(
    ("intent", "slots", "reason"),
    [("ask_human", {}, "asked_for_human"), ("deny", {"last_faq_id": "sperrmuell"}, "not_helpful"),
     ("feedback_not_helpful", {"last_faq_id": "sperrmuell"}, "not_helpful"),
     ("none_of_these", {"misses": 1}, "choices_rejected")],
)
def test_handoff_reasons(home: Path, intent: str, slots: Dict[str, Any], reason: str) -> None:
    events, _ = run(ActionAnswerFaq(), tracker(intent=intent, slots=slots,
                                               candidates=[candidate("sperrmuell", 0.85)]))
    assert SlotSet("handoff_reason", reason) in events


def test_a_no_without_a_previous_answer_is_just_acknowledged(home: Path) -> None:
    events, messages = run(ActionAnswerFaq(), tracker(intent="deny", text="nein"))
    assert "neue Frage" in messages[0]["text"]
    assert not any(isinstance(e, dict) and e.get("event") == "followup" for e in events)


def test_english_conversation_gets_english_texts(home: Path) -> None:
    _, messages = run(ActionSmalltalk(), tracker(intent="greet", text="hello", lang="en"))
    assert messages[0]["text"].startswith("Hello")
    _, asked = run(ActionAskHandoffConsent(), tracker(intent="ask_human", lang="en",
                                                      slots={"handoff_reason": "asked_for_human"}))
    assert "forward" in asked[0]["text"] and asked[0]["buttons"][0]["payload"] == "/affirm"


def test_email_validation(home: Path) -> None:
    form = ValidateHandoffForm()
    dispatcher = CollectingDispatcher()
    track = tracker()
    assert form.validate_handoff_email("max@example.org", dispatcher, track, DOMAIN) == {
        "handoff_email": "max@example.org"}
    assert form.validate_handoff_email("-", dispatcher, track, DOMAIN) == {"handoff_email": "-"}
    assert form.validate_handoff_email("max at example", dispatcher, track, DOMAIN) == {"handoff_email": None}
    assert "E-Mail-Adresse" in dispatcher.messages[0]["text"]
    assert form.validate_handoff_consent(False, dispatcher, track, DOMAIN) == {"handoff_consent": False,
                                                                                 "handoff_email": "-"}



def test_ticket_is_created_with_transcript_and_case_number(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("AUSKUNFT_WEB_PORT", str(port))
    get_settings.cache_clear()
    import httpx

    with ServerThread(get_settings(), port):
        _, messages = run(ActionCreateTicket(), handoff_tracker(True))
        case = messages[1]["custom"]["case_number"]
        assert case in messages[0]["text"] and messages[1]["custom"]["queued"] is False
        stored = httpx.get(f"http://127.0.0.1:{port}/api/tickets/{case}",
                           headers={"Authorization": "Bearer test-token-1234567890-abcdefghijklmn"}).json()
    assert stored["question"] == "Wie bekomme ich einen Angelschein? Meine Nummer: [TELEFON]"
    assert stored["other_needs"] == ["Wo melde ich meinen Hund an? Mail: [E-MAIL]"]  # listed, redacted
    assert [line["role"] for line in stored["transcript"]] == ["citizen", "bot", "citizen"]
    assert stored["transcript"][2]["text"] == "[button: affirm]"
    assert stored["candidates"][0] == {"faq_id": "sperrmuell", "title": "Titel sperrmuell", "score": 0.41,
                                       "owner": "Abfallwirtschaft"}  # the kb entry's office ...
    assert stored["department"] == "bauen-umwelt"  # ... routes the ticket to that department's queue


def test_ticket_service_down_queues_and_says_so(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUSKUNFT_WEB_PORT", str(free_port()))
    get_settings.cache_clear()
    _, messages = run(ActionCreateTicket(), handoff_tracker(True))
    assert messages[1]["custom"]["queued"] is True
    assert "nicht erreichbar" in messages[0]["text"] and messages[1]["custom"]["case_number"] in messages[0]["text"]


def test_no_consent_creates_nothing(home: Path) -> None:
    events, messages = run(ActionCreateTicket(), handoff_tracker(False))
    assert "nichts weitergeleitet" in messages[0]["text"]
    assert SlotSet("handoff_consent", None) in events


def turn(slots: Dict[str, Any], intent: str, text: str, candidates: Optional[List[Dict[str, Any]]] = None,
         entities: Optional[list] = None, action: Any = None) -> tuple[list, list]:
    """One turn of a conversation: run the action, then keep the slots it set (as Rasa does)."""
    track = tracker(intent=intent, text=text, candidates=candidates, slots=dict(slots), entities=entities)
    events, messages = run(action or ActionAnswerFaq(), track)
    slots.update({e["name"]: e["value"] for e in events if e.get("event") == "slot"})
    return events, messages


def test_handoff_after_a_button_keeps_the_question_and_its_candidates(home: Path) -> None:
    slots: Dict[str, Any] = {}
    _, shown = turn(slots, "faq", "Angelschein?", [candidate("sperrmuell", 0.30), candidate("personalausweis", 0.28)])
    assert shown[1]["custom"]["decision"] == "clarify"
    result, _ = turn(slots, "none_of_these", "/none_of_these")
    assert SlotSet("handoff_question", "Angelschein?") in result
    assert SlotSet("handoff_index_version", "v1") in result
    assert SlotSet("handoff_candidates", [candidate("sperrmuell", 0.30), candidate("personalausweis", 0.28)]) in result


def test_asking_for_a_person_keeps_the_unanswered_question_not_the_request(home: Path) -> None:
    slots: Dict[str, Any] = {}
    turn(slots, "faq", "Wie beantrage ich einen Jagdschein?", [candidate("sperrmuell", 0.10)])
    slots.update(handoff_reason=None)  # the citizen declined the first handoff offer
    result, _ = turn(slots, "ask_human", "Ich möchte mit einem Menschen sprechen", [candidate("personalausweis", 0.2)])
    assert SlotSet("handoff_reason", "asked_for_human") in result
    assert SlotSet("handoff_question", "Wie beantrage ich einen Jagdschein?") in result
    assert SlotSet("handoff_candidates", [candidate("sperrmuell", 0.10)]) in result


def test_the_ticket_names_the_latest_unresolved_need_and_lists_the_others(home: Path) -> None:
    slots: Dict[str, Any] = {}
    _, said = turn(slots, "faq", "Ich habe meinen Perso verloren", [candidate("personalausweis", 0.95)])
    assert said[1]["custom"]["faq_id"] == "personalausweis"
    turn(slots, "feedback_not_helpful", "/feedback_not_helpful")  # hands off (not helpful); the citizen says no
    turn(slots, "faq", "Ich brauche ein Dokument", [candidate("sperrmuell", 0.30), candidate("personalausweis", 0.29)])
    turn(slots, "choose_faq", '/choose_faq{"faq_id":"sperrmuell"}', entities=[{"entity": "faq_id",
                                                                               "value": "sperrmuell"}])
    result, _ = turn(slots, "ask_human", "Ich möchte mit einem Menschen sprechen")
    assert SlotSet("handoff_question", "Ich habe meinen Perso verloren") in result
    assert SlotSet("handoff_other_needs", []) in result
    turn(slots, "faq", "Wo melde ich einen Hund an?", [candidate("sperrmuell", 0.05)])
    result, _ = turn(slots, "ask_human", "Ich möchte mit einem Menschen sprechen")
    assert SlotSet("handoff_question", "Wo melde ich einen Hund an?") in result
    assert SlotSet("handoff_other_needs", ["Ich habe meinen Perso verloren"]) in result


def test_a_person_asked_for_beside_a_question_gets_a_ticket_for_that_question(home: Path) -> None:
    slots: Dict[str, Any] = {}
    turn(slots, "faq", "Wo melde ich einen Hund an?", [candidate("sperrmuell", 0.05)])
    slots.update(handoff_reason=None)
    result, _ = turn(slots, "ask_human", "Wie beantrage ich einen Reisepass? Ich möchte mit einem Menschen sprechen.",
                     [candidate("personalausweis", 0.6)])
    assert SlotSet("handoff_reason", "asked_for_human") in result
    assert SlotSet("handoff_question", "Wie beantrage ich einen Reisepass?") in result
    assert SlotSet("handoff_candidates", [candidate("personalausweis", 0.6)]) in result
    assert SlotSet("handoff_other_needs", ["Wo melde ich einen Hund an?"]) in result


@pytest.mark.parametrize("text", ["asdf qwer", "😀😀", "jjjjjj"])
def test_typing_noise_is_asked_to_rephrase_with_a_way_to_a_person(home: Path, text: str) -> None:
    events, messages = run(ActionAnswerFaq(), tracker(intent="not_understood", text=text,
                                                      candidates=[candidate("sperrmuell", 0.9)]))
    assert messages[1]["custom"] == {"decision": "rephrase", "reason": "not_understood", "lang": "de"}
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/ask_human"]
    assert not any(isinstance(e, dict) and e.get("event") == "followup" for e in events)
    assert not any(e.get("name") == "needs" and e.get("value") for e in events)  # noise is no need


def test_small_talk_says_so_in_its_payload(home: Path) -> None:
    _, messages = run(ActionSmalltalk(), tracker(intent="greet", text="Hallo", lang="en"))
    assert messages[0]["text"].startswith("Hello")
    assert messages[1]["custom"] == {"decision": "smalltalk", "intent": "greet", "lang": "en"}


def test_a_message_that_does_not_settle_its_language_keeps_the_conversations(home: Path) -> None:
    track = tracker(intent="faq", text="anna@example.org", lang="de", slots={"lang": "en"},
                    candidates=[candidate("sperrmuell", 0.05)])
    track.latest_message["faq"]["lang_confident"] = False  # the page's language decided, not the text
    events, _ = run(ActionAnswerFaq(), track)
    assert SlotSet("lang", "en") in events
    track = tracker(intent="faq", text="Wie melde ich Sperrmüll an?", lang="de", slots={"lang": "en"},
                    candidates=[candidate("sperrmuell", 0.95)])
    events, messages = run(ActionAnswerFaq(), track)
    assert SlotSet("lang", "de") in events and "Quelle" in messages[0]["text"]  # a clear German question switches


def test_an_answer_to_the_forms_question_keeps_the_conversations_language(home: Path) -> None:
    track = tracker(intent="faq", text="lena.muster(at)example", lang="en",
                    slots={"lang": "de", "requested_slot": "handoff_email"})
    dispatcher = CollectingDispatcher()
    result = ValidateHandoffForm().validate_handoff_email("lena.muster(at)example", dispatcher, track, {})
    assert result == {"handoff_email": None}
    assert "E-Mail" in dispatcher.messages[0]["text"]  # asked again in German, not in English


def test_a_new_question_typed_instead_of_consent_is_answered_once_in_the_same_action(home: Path) -> None:
    track = tracker(intent="faq", text="Ich brauche ein Dokument", slots={"handoff_consent": False},
                    candidates=[candidate("personalausweis", 0.9)])
    events, messages = run(ActionCreateTicket(), track)
    assert "nichts weitergeleitet" in messages[0]["text"]
    assert [m["custom"]["decision"] for m in messages if m["custom"]] == ["answer"]  # answered once
    assert messages[2]["custom"]["faq_id"] == "personalausweis"
    assert SlotSet("last_faq_id", "personalausweis") in events
    # No follow-up action: after one no rule predicts action_listen, and RulePolicy's fallback
    # (action_answer_faq) ran until Rasa's circuit breaker silenced the conversation.
    assert not any(e.get("event") == "followup" for e in events)
    events, messages = run(ActionCreateTicket(), tracker(intent="deny", text="/deny", slots={"handoff_consent": False}))
    assert len(messages) == 1 and not any(e.get("event") == "followup" for e in events)  # a "no" ends the handoff


def test_the_new_question_is_decided_after_the_handoff_is_reset(home: Path) -> None:
    slots = {"handoff_consent": False, "handoff_reason": "choices_rejected", "misses": 5, "last_faq_id": "sperrmuell"}
    track = tracker(intent="faq", text="Sperrmüll oder Ausweis?", slots=slots,
                    candidates=[candidate("sperrmuell", 0.30), candidate("personalausweis", 0.28)])
    events, messages = run(ActionCreateTicket(), track)
    assert messages[-1]["custom"]["decision"] == "clarify"  # a fresh question, not a handoff after earlier misses
    assert events.index(SlotSet("misses", 0)) < events.index(SlotSet("misses", 1))
    assert track.get_slot("misses") == 5  # the tracker Rasa sent is left as it came
