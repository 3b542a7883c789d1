"""Message validation, language guess, intent routing and redaction."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bot.channels.incoming import MessageRejected, clean_message
from bot.decision import DecisionConfig
from bot.decision.person_request import question_besides
from bot.decision.routing import IntentExamples, route_intent
from bot.privacy import redact
from bot.retrieval.language import LanguageGuesser, detect_language, normalise_language


@pytest.mark.parametrize(
    ("message", "status"),
    [("", 400), ("   \n\t ", 400), ("\x00\x01\x02", 400), (None, 400), (42, 400), ({"a": 1}, 400),
     ("a" * 100_000, 413), ("a" * 2001, 413)],
)
def test_bad_messages_are_rejected_with_a_status(message: object, status: int) -> None:
    with pytest.raises(MessageRejected) as caught:
        clean_message(message, max_chars=2000)
    assert caught.value.status == status


def test_messages_are_cleaned_but_html_is_kept_as_text() -> None:
    assert clean_message("  Hallo\x00 Welt\u200b ", 2000) == "Hallo Welt"
    assert clean_message("<img src=x onerror=alert(1)>", 2000) == "<img src=x onerror=alert(1)>"
    assert clean_message("Zeile 1\nZeile 2", 2000) == "Zeile 1\nZeile 2"


@pytest.mark.parametrize(
    ("text", "lang"),
    [("Wie beantrage ich einen Pass?", "de"), ("How do I apply for a passport?", "en"), ("Führerschein", "de"),
     ("How do I register my new address?", "en"), ("Was kostet ein Reisepass?", "de")],
)
@pytest.mark.parametrize("page", ["de", "en"])
def test_the_message_language_wins_over_the_page(text: str, lang: str, page: str) -> None:
    assert detect_language(text, default=page) == lang


@pytest.mark.parametrize("text", ["ok", "xyz"])
@pytest.mark.parametrize("page", ["de", "en"])
def test_too_short_to_tell_falls_back_to_the_page(text: str, page: str) -> None:
    guess = LanguageGuesser({}).detect(text, page)
    assert (guess.lang, guess.confident) == (page, False)


def test_kb_vocabulary_decides_keyword_queries() -> None:
    guesser = LanguageGuesser.from_texts({"de": ["Sperrmüll Abholung Termin"], "en": ["bulky waste pickup"]})
    assert guesser.guess("bulky pickup", default="de") == "en"
    assert guesser.guess("Sperrmüll", default="en") == "de"


def test_normalise_language() -> None:
    assert normalise_language("de-AT") == "de"
    assert normalise_language("en_GB") == "en"
    assert normalise_language("fr", default="de") == "de"
    assert normalise_language(None, default="en") == "en"


CONVERSATIONAL = ["greet", "goodbye", "ask_human"]
FLOOR = DecisionConfig(smalltalk_floor=0.9, smalltalk_margin=0.02)


def intent_of(text: str, classifier: object, nearest: object, similarity: float, best_faq: float,
              config: DecisionConfig = FLOOR) -> str:
    return route_intent(text, classifier, nearest, similarity, best_faq, CONVERSATIONAL, config).intent  # type: ignore[arg-type]


def test_conversational_intent_needs_the_floor_and_the_margin() -> None:
    assert intent_of("Hallo", "greet", "greet", 0.95, 0.85) == "greet"
    assert intent_of("Hallo", "greet", "greet", 0.80, 0.70) == "faq"  # closer than any FAQ, but below the floor
    assert intent_of("Hallo", "greet", "greet", 0.95, 0.94) == "faq"  # above the floor, but not clearly closer
    assert intent_of("Ich will einen Menschen", "faq", "ask_human", 0.93, 0.8) == "ask_human"
    assert intent_of("Hallo", "greet", "chitchat", 0.99, 0.5) == "faq"  # not a conversational intent
    assert intent_of("/choose_faq", "choose_faq", None, -1.0, 0.0) == "choose_faq"
    assert intent_of("Was kostet ein Pass?", None, None, -1.0, 0.0) == "faq"


@pytest.mark.parametrize("text", ["asdf qwer", "jjjjjj", "?!?", "ölkjhg", "123456", "😀😀", "<img src=x onerror=alert(1)>",
                                  "xcvbnm,.", "lol wtf"])
def test_typing_noise_is_not_understood_even_when_close_to_small_talk(text: str) -> None:
    assert intent_of(text, "greet", "greet", 0.99, 0.5) == "not_understood"


@pytest.mark.parametrize("text", [
    "Wie beantrage ich einen Reisepass? Ich möchte mit einem Menschen sprechen.",
    "Ich brauche einen neuen Reisepass, kann ich mit einem Mitarbeiter sprechen?",
    "Can I speak to someone about my residence permit?",
    "Kann ich mit jemandem über meinen Wohngeldantrag sprechen?",
    "Is there a human I can talk to?",
    "I have a question about the dog tax, I want a person, how much is it?",
    "I need a real human to talk to about my rent allowance",
])
def test_an_explicit_request_for_a_person_wins_even_beside_a_question(text: str) -> None:
    assert intent_of(text, "faq", "faq", 0.95, 0.9) == "ask_human"


@pytest.mark.parametrize("text", [
    "Wohngeld für Menschen mit Behinderung", "Welche Mitarbeiter sind im Bürgeramt?",
    "How do I register a person who moved in?", "Brauche ich einen Termin beim Bürgeramt?", "Are you a real person?",
    "Do I need a person to sign the form for me?", "I need a person to witness my signature, where do I go?",
])
def test_person_words_without_a_request_stay_questions(text: str) -> None:
    assert intent_of(text, "faq", "faq", 0.95, 0.9) == "faq"


@pytest.mark.parametrize("text, question", [
    ("Wie beantrage ich einen Reisepass? Ich möchte mit einem Menschen sprechen.", "Wie beantrage ich einen Reisepass?"),
    ("Can I speak to someone about my residence permit?", "Can I speak to someone about my residence permit?"),
    ("Ich möchte mit einem Menschen sprechen", None),
    ("Hallo. Ich möchte bitte mit einer echten Person reden!", None),
    ("I want to talk to a human right now", None),
])
def test_the_question_besides_a_request_for_a_person(text: str, question: object) -> None:
    assert question_besides(text) == question


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "<script src=//x.example/a.js></script>",
                                  "<style>body{color:red}</style>"])
def test_script_and_style_blocks_are_no_words_and_no_language(text: str) -> None:
    assert intent_of(text, None, None, -1.0, 0.3) == "not_understood"
    guess = LanguageGuesser({}).detect(text, "de")
    assert guess == LanguageGuesser({}).detect("", "de") and not guess.confident


@pytest.mark.parametrize("text", ["Pkw ummelden", "Perso weg", "ok", "Fischereischein", "Mehrwertsteuer", "Kfz"])
def test_short_real_words_are_content(text: str) -> None:
    assert intent_of(text, None, None, -1.0, 0.3) == "faq"


def test_nearest_intent_example() -> None:
    examples = IntentExamples(["greet", "thanks"], np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32))
    assert examples.nearest(np.array([0.2, 0.9], dtype=np.float32)) == ("thanks", pytest.approx(0.9))
    assert IntentExamples([], np.zeros((0, 2))).nearest(np.ones(2)) == (None, -1.0)


@pytest.mark.parametrize(
    ("text", "label"),
    [("Schreiben Sie an max.mustermann@example.org bitte", "[E-MAIL]"),
     ("Meine IBAN ist DE89 3704 0044 0532 0130 00", "[IBAN]"),
     ("Ruf mich an: 0171 2345678", "[TELEFON]"),
     ("Tel. +49 30 1234567", "[TELEFON]"),
     ("geboren am 03.04.1985", "[DATUM]"),
     ("Kennzeichen M-AB 1234", "[KENNZEICHEN]")],
)
def test_redaction_replaces_personal_data(text: str, label: str) -> None:
    redacted = redact(text)
    assert label in redacted
    assert not re.search(r"\d{3}", redacted)


def test_redaction_keeps_ordinary_text() -> None:
    text = "Was kostet ein Personalausweis? 46 Euro ab 24 Jahren, 2 Wochen Frist."
    assert redact(text) == text


@pytest.mark.parametrize("text", ["anna@example.org", "https://www.musterstadt.example/pass"])
def test_addresses_and_links_say_nothing_about_the_language(text: str) -> None:
    assert LanguageGuesser({}).detect(text, "en") == LanguageGuesser({}).detect("", "en")
