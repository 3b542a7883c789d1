"""Message validation, language guess, intent routing and redaction."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bot.language import LanguageGuesser, detect_language, normalise_language
from bot.messages import MessageRejected, clean_message
from bot.privacy import redact
from bot.routing import IntentExamples, route_intent


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
     ("hallo", "de"), ("xyz", "de")],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text, default="de") == lang


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


def test_conversational_intent_kept_only_when_closer_than_any_faq() -> None:
    assert route_intent("greet", "greet", 0.95, 0.85, CONVERSATIONAL) == "greet"
    assert route_intent("greet", "greet", 0.80, 0.85, CONVERSATIONAL) == "faq"
    assert route_intent("faq", "ask_human", 0.9, 0.8, CONVERSATIONAL) == "ask_human"
    assert route_intent("greet", "chitchat", 0.99, 0.5, CONVERSATIONAL) == "faq"
    assert route_intent("choose_faq", None, -1.0, 0.0, CONVERSATIONAL) == "choose_faq"
    assert route_intent(None, None, -1.0, 0.0, CONVERSATIONAL) == "faq"


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
