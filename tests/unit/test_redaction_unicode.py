"""The redaction sees what a person reads: hidden characters and fullwidth forms do not hide personal data."""

from __future__ import annotations

import pytest

from bot.channels.incoming import clean_message
from bot.privacy import find_personal_data, redact
from bot.privacy.visible import reading_view

RLO, PDF, ZWSP, LRI, PDI, SHY = "\u202e", "\u202c", "\u200b", "\u2066", "\u2069", "\u00ad"


@pytest.mark.parametrize("text, kept, label", [
    ("Meine Adresse: max\uff20beispiel\uff0ede", "beispiel", "E-MAIL"),  # fullwidth ＠ and ．
    ("Meine Adresse: ｍａｘ＠ｂｅｉｓｐｉｅｌ．ｄｅ", "ｂｅｉｓｐｉｅｌ", "E-MAIL"),  # every letter fullwidth
    (f"Schreiben Sie an max@{RLO}ed.leipsieb{PDF} bitte", "leipsieb", "E-MAIL"),  # a bidi override inside
    (f"ma{ZWSP}x.mu{ZWSP}ster@bei{ZWSP}spiel.de", "ster", "E-MAIL"),  # zero-width spaces
    (f"max@{LRI}beispiel.de{PDI}", "beispiel", "E-MAIL"),  # isolates
    ("Rufen Sie mich an: ０１７１ ２３４５６７８", "２３４５６７８", "TELEFON"),  # fullwidth digits
    (f"Handy 0171{SHY}2345678", "2345678", "TELEFON"),  # a soft hyphen
    (f"IBAN DE89{ZWSP}3704{ZWSP}0044{ZWSP}0532{ZWSP}0130{ZWSP}00", "0532", "IBAN"),
    ("Geboren am ０１.０２.１９８０", "１９８０", "DATUM"),
])
def test_hidden_and_fullwidth_characters_do_not_hide_personal_data(text: str, kept: str, label: str) -> None:
    redacted = redact(text)
    assert f"[{label}]" in redacted and kept not in redacted, redacted


def test_only_the_found_span_is_replaced_and_the_rest_stays_as_written() -> None:
    text = f"„Grüße“ {RLO}x{PDF} – ﬁnal: max＠beispiel．de, ½ Stunde…"
    assert redact(text) == f"„Grüße“ {RLO}x{PDF} – ﬁnal: [E-MAIL], ½ Stunde…"
    start, end, label = find_personal_data(text)[0]
    assert text[start:end] == "max＠beispiel．de" and label == "E-MAIL"
    assert redact(redact(text)) == redact(text)


def test_plain_text_is_read_as_it_is() -> None:
    assert reading_view("Hallo, wie melde ich meinen Hund an?").origin is None
    assert reading_view("Grüße aus der Straße").origin is None  # already NFKC, nothing hidden
    view = reading_view(f"a{ZWSP}＠b")
    assert view.text == "a@b" and view.original(1, 3) == (2, 4)


def test_the_chat_and_the_redaction_agree_on_what_is_hidden() -> None:
    typed = f"max{RLO}\uff20bei{ZWSP}spiel.de"
    assert redact(clean_message(typed, 2000)) == redact(typed) == "[E-MAIL]"
