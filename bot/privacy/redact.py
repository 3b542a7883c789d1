"""Replace personal data in free text with placeholders such as ``[E-MAIL]``.

Applied to every transcript line and question before a ticket is stored or a message is
logged. Contact data the citizen deliberately gives in the handoff form is kept separately
and not passed through here.

What is replaced (labels in brackets):

- ``[E-MAIL]``: e-mail addresses, also written as ``name (at) example.org``.
- ``[TELEFON]``: phone numbers starting with ``0``, ``+`` or ``00`` (7 to 15 digits, blanks, ``/``,
  ``-`` and an area code in brackets allowed), the agency's own numbers included. Short numbers
  (110, 112, 115) and a bare extension ("Durchwahl 12") are kept.
- ``[IBAN]``: IBANs with or without blanks, any country with a known length, when the mod-97
  checksum is right; with a wrong checksum only after a word such as "IBAN" or "Konto".
- ``[STEUER-ID]``: 11-digit tax ids (first digit not 0, blanks allowed) with a valid ISO 7064
  MOD 11,10 check digit; with a wrong check digit only after a word such as "Steuer-ID".
- ``[AUSWEIS-NR]``: ID-card and passport serial numbers, 9 characters from
  ``CFGHJKLMNPRTVWXYZ0-9`` (plus an optional ICAO 9303 check digit) after a word such as
  "Ausweis", "Pass", "Dokumentennummer", "Seriennummer"; without such a word only in upper
  case, starting with a letter, with at least two letters and two digits, and with a valid
  check digit when ten characters long.
- ``[KENNZEICHEN]``: German plates ("M-AB 1234", "HH-X 99H", "B AB 123"); the blank-only form
  needs two middle letters or a word such as "Kennzeichen"/"Auto" before it; lower-case plates
  only with a hyphen and such a word.
- ``[DATUM]``: every calendar date with day, month *and year* (01.02.1980, 1.2.80, 1980-02-01,
  05/08/1992, "1. Februar 1980"), whether birth date, appointment or expiry date. Dates
  without a year ("am 3. Mai", "bis 15.04."), month and year, years alone and times are kept.
- ``[ADRESSE]``: street + house number (street names ending in -straße/-str./-weg/-gasse/-platz/
  -allee/-ring/-damm/-ufer/-chaussee/-steig/-pfad, "Berliner Str. 7", and "Am/Im/An der/Auf
  dem <Name> <Nummer>") and postcode + town ("80331 München"); "street number, postcode town"
  becomes one placeholder. A street without a number, a town alone and a postcode alone are
  kept, as are numbers followed by a unit ("Schillerplatz 2 Stunden").

Everything is looked for in the text as a person reads it (:mod:`bot.privacy.visible`): bidi, zero-width and
other invisible characters are left out and fullwidth forms folded, so ``max＠beispiel．de`` or an address split
by U+200B is found; the whole span, hidden characters included, is replaced, the rest stays as written.

Names of people are not detected. Case numbers (AK-7KQ2-M9XD), Aktenzeichen, paragraphs,
prices, times and amounts are kept.
"""

from __future__ import annotations

import re
from typing import Iterator, List, Tuple

from bot.privacy import patterns as p
from bot.privacy.patterns import Span
from bot.privacy.visible import reading_view

__all__ = ["Span", "find_personal_data", "redact"]

# When candidates overlap, the higher priority wins (then the longer one).
PRIORITY = {"E-MAIL": 100, "IBAN": 90, "STEUER-ID": 80, "AUSWEIS-NR": 70, "DATUM": 60, "KENNZEICHEN": 50,
            "ADRESSE": 40, "TELEFON": 30}
_ADDRESS_GAP = re.compile(r"[ ]*,?[ ]*")


def _emails(text: str) -> Iterator[Span]:
    for pattern in (p.EMAIL, p.EMAIL_OBFUSCATED):
        for match in pattern.finditer(text):
            yield Span(match.start(), match.end(), "E-MAIL")


def _ibans(text: str) -> Iterator[Span]:
    for match in p.IBAN_START.finditer(text):
        country = match.group(1).upper()
        length = p.IBAN_LENGTHS.get(country)
        if length is None:
            continue
        chars, pos = [country, match.group(2)], match.end()
        count = 4
        while count < length and pos < len(text):
            if text[pos].isascii() and text[pos].isalnum():
                chars.append(text[pos])
                count += 1
                pos += 1
            elif text[pos] == " " and pos + 1 < len(text) and text[pos + 1].isascii() and text[pos + 1].isalnum():
                pos += 1
            else:
                break
        if count < length or (pos < len(text) and text[pos].isalnum()):
            continue
        compact = "".join(chars)
        upper = match.group(1).isupper()
        if p.iban_is_valid(compact) or (upper and p.preceded_by(p.IBAN_CONTEXT, text, match.start())):
            yield Span(match.start(), pos, "IBAN")


def _tax_ids(text: str) -> Iterator[Span]:
    for match in p.TAX_ID.finditer(text):
        start, end = match.start(1), match.end(1)
        digits = match.group(1).replace(" ", "")
        if p.tax_id_is_valid(digits) or p.preceded_by(p.TAX_CONTEXT, text, start):
            yield Span(start, end, "STEUER-ID")


def _id_numbers(text: str) -> Iterator[Span]:
    for match in p.ID_TOKEN.finditer(text):
        token = match.group(0)
        upper = token.upper()
        if not set(upper) <= p.ID_ALPHABET or not any(c.isdigit() for c in token):
            continue
        letters = sum(c.isalpha() for c in token)
        if len(token) == 10 and (not upper[9].isdigit() or p.icao_check_digit(upper[:9]) != int(upper[9])):
            continue
        if p.preceded_by(p.ID_CONTEXT, text, match.start(), window=50):
            if letters or token[0] != "0":
                yield Span(match.start(), match.end(), "AUSWEIS-NR")
        elif token.isupper() and token[0].isalpha() and letters >= 2 and len(token) - letters >= 2:
            yield Span(match.start(), match.end(), "AUSWEIS-NR")


def _plates(text: str) -> Iterator[Span]:
    for match in p.PLATE.finditer(text):
        district, separator, letters = match.group(1), match.group(2), match.group(3)
        if district in p.PLATE_NOT_DISTRICT:
            continue
        if "-" in separator or len(letters) == 2 or p.preceded_by(p.PLATE_CONTEXT, text, match.start(), 30):
            yield Span(match.start(), match.end(), "KENNZEICHEN")
    for match in p.PLATE_LOWER.finditer(text):
        hyphen = "-" in match.group(0)
        if not hyphen and (match.group(1) in p.PLATE_NOT_LOWER or match.group(2) in p.PLATE_NOT_LOWER - {"ab"}):
            continue
        if p.non_units(text, match.end()) and p.preceded_by(p.PLATE_CONTEXT, text, match.start(), 30):
            yield Span(match.start(), match.end(), "KENNZEICHEN")


def _dates(text: str) -> Iterator[Span]:
    for pattern in p.DATES:
        for match in pattern.finditer(text):
            yield Span(match.start(), match.end(), "DATUM")


def _addresses(text: str) -> Iterator[Span]:
    for match in p.STREET.finditer(text):
        word = match.group(2)
        if word.lower() in p.NOT_STREET_WORD or (word[0].islower() and len(word) < 7):
            continue
        if p.non_units(text, match.end()):
            start = match.start(2) if match.group(1) in p.NOT_ADJECTIVE else match.start()
            yield Span(start, match.end(), "ADRESSE")
    for match in p.STREET_TWO_WORDS.finditer(text):
        if match.group(1) not in p.NOT_ADJECTIVE and p.non_units(text, match.end()):
            yield Span(match.start(), match.end(), "ADRESSE")
    for match in p.STREET_PREPOSITION.finditer(text):
        if match.group(1).lower() not in p.NOT_STREET_NAME and p.non_units(text, match.end()):
            yield Span(match.start(), match.end(), "ADRESSE")
    for match in p.POSTCODE_TOWN.finditer(text):
        if match.group(1) not in p.NOT_TOWN:
            yield Span(match.start(), match.end(), "ADRESSE")
    for match in p.POSTCODE_TOWN_LOWER.finditer(text):
        town = match.group(1)
        if (town.capitalize() not in p.NOT_TOWN and town not in p.NOT_TOWN_LOWER and p.non_units(text, match.start(1))
                and p.POSTCODE_CONTEXT.search(text[max(0, match.start() - 20):match.start()])):
            yield Span(match.start(), match.end(), "ADRESSE")


_NEXT_NUMBER = re.compile(r"(?<=\d)[ ]+(?=[+0])")


def _phones(text: str) -> Iterator[Span]:
    for match in p.PHONE.finditer(text):
        if p.REFERENCE_CONTEXT.search(text[max(0, match.start() - 30):match.start()]):
            continue
        parts = [(match.start(), match.end())]
        if sum(c.isdigit() for c in match.group(0)) > 17:  # two numbers in a row: "0171 2345678 0176 1234567"
            cuts = [match.start()] + [m.end() for m in _NEXT_NUMBER.finditer(text, match.start(), match.end())]
            ends = [m.start() for m in _NEXT_NUMBER.finditer(text, match.start(), match.end())] + [match.end()]
            parts = list(zip(cuts, ends, strict=True))
        for start, end in parts:
            if 7 <= sum(c.isdigit() for c in text[start:end]) <= 17:
                yield Span(start, end, "TELEFON")


_DETECTORS: Tuple[p.Detector, ...] = (_emails, _ibans, _tax_ids, _id_numbers, _plates, _dates, _addresses, _phones)


def _merge_addresses(spans: List[Span], text: str) -> List[Span]:
    """Join "street number" and "postcode town" that follow each other into one span."""
    merged: List[Span] = []
    for span in spans:
        last = merged[-1] if merged else None
        if (last is not None and last.label == span.label == "ADRESSE"
                and _ADDRESS_GAP.fullmatch(text, last.end, span.start)):
            merged[-1] = Span(last.start, span.end, "ADRESSE")
        else:
            merged.append(span)
    return merged


def find_personal_data(text: str) -> List[Span]:
    """Find personal data in ``text``.

    Args:
        text: Free text as a citizen typed it.

    Returns:
        ``(start, end, label)`` spans of ``text`` itself (found in what a person reads of it, see the module),
        sorted by start and not overlapping; ``label`` is one of
        E-MAIL, TELEFON, IBAN, STEUER-ID, AUSWEIS-NR, KENNZEICHEN, DATUM, ADRESSE.
    """
    view = reading_view(text)
    read = view.text
    candidates = [span for detect in _DETECTORS for span in detect(read) if span.end > span.start]
    candidates.sort(key=lambda s: (-PRIORITY[s.label], -(s.end - s.start), s.start))
    chosen: List[Span] = []
    for span in candidates:
        if all(span.end <= other.start or span.start >= other.end for other in chosen):
            chosen.append(span)
    return [Span(*view.original(span.start, span.end), span.label) for span in _merge_addresses(sorted(chosen), read)]


def redact(text: str) -> str:
    """Return ``text`` with every piece of personal data replaced by ``[LABEL]``.

    Args:
        text: Free text as a citizen typed it.

    Returns:
        The text with e-mail addresses, phone numbers, IBANs, tax ids, ID-card and passport
        numbers, licence plates, dates with a year and street addresses replaced, e.g.
        ``"Ruf mich an: [TELEFON]"``. Applying it twice changes nothing more.
    """
    parts: List[str] = []
    pos = 0
    for span in find_personal_data(text):
        parts.append(text[pos:span.start])
        parts.append(f"[{span.label}]")
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)
