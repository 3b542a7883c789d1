"""Patterns, checksums and context words for the personal-data detectors in :mod:`bot.privacy.redact`.

Every detector here yields candidate :class:`Span` objects; :func:`bot.privacy.redact.find_personal_data`
picks the non-overlapping ones by priority. The rules (which dates, which addresses) are
documented in :mod:`bot.privacy.redact`.
"""

from __future__ import annotations

import re
from typing import Callable, Dict, FrozenSet, Iterator, NamedTuple


class Span(NamedTuple):
    """A piece of personal data: ``text[start:end]`` is replaced by ``[label]``."""

    start: int
    end: int
    label: str


# ---------------------------------------------------------------------------------------------
# checksums
# ---------------------------------------------------------------------------------------------

IBAN_LENGTHS: Dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18,
    "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23,
    "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "XK": 20,
}


def iban_is_valid(compact: str) -> bool:
    """Whether an IBAN without blanks has its country's length and a correct mod-97 checksum."""
    compact = compact.upper()
    if len(compact) != IBAN_LENGTHS.get(compact[:2], -1) or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def tax_id_is_valid(digits: str) -> bool:
    """Whether 11 digits form a valid German Steuer-ID (ISO 7064 MOD 11,10 and digit rules).

    The first digit is not 0; among the first ten digits exactly one digit occurs two or
    three times and the others at most once; the eleventh is the MOD 11,10 check digit.
    """
    if len(digits) != 11 or not digits.isdigit() or digits[0] == "0":
        return False
    counts = sorted((digits[:10].count(d) for d in set(digits[:10])), reverse=True)
    if counts[0] not in (2, 3) or (len(counts) > 1 and counts[1] > 1):
        return False
    product = 10
    for char in digits[:10]:
        total = (int(char) + product) % 10 or 10
        product = (total * 2) % 11
    check = 11 - product
    return (0 if check == 10 else check) == int(digits[10])


def icao_check_digit(value: str) -> int:
    """ICAO 9303 check digit (weights 7, 3, 1; digits as is, A=10 ... Z=35)."""
    weights = (7, 3, 1)
    return sum(int(char, 36) * weights[i % 3] for i, char in enumerate(value.upper())) % 10


# ---------------------------------------------------------------------------------------------
# regular expressions
# ---------------------------------------------------------------------------------------------

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
EMAIL_OBFUSCATED = re.compile(r"(?<![\w.+-])[\w.+-]+\s?[(\[]\s?(?:at|ät)\s?[)\]]\s?[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b",
                              re.IGNORECASE)

IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})(\d{2})")
IBAN_CONTEXT = re.compile(r"iban|konto|bankverbindung|kontonummer|kontonr|überweis|lastschrift|abbuch",
                          re.IGNORECASE)

# 11 digits, optionally in groups separated by single blanks; a lookahead yields every start.
TAX_ID = re.compile(r"(?<![\d+])(?=([1-9](?:[ ]?\d){10})(?![\d]))")
TAX_CONTEXT = re.compile(r"steuer[\s-]?id|identifikationsnummer|\bidnr|\bid-nr|\btin\b|tax[\s-]?id|steuernummer|"
                         r"finanzamt|steuer", re.IGNORECASE)

ID_ALPHABET = frozenset("CFGHJKLMNPRTVWXYZ0123456789")
ID_TOKEN = re.compile(r"(?<![\w-])[A-Za-z0-9]{9,10}(?![\w-])")
ID_CONTEXT = re.compile(r"ausweis|perso\b|perso[\s.-]*n|reisepass|kinderreisepass|\bpass\b|passnummer|passnr|"
                        r"pass-nr|dokumentennummer|dokumentnummer|seriennummer|\bdokument", re.IGNORECASE)

PLATE = re.compile(r"(?<![\w-])([A-ZÄÖÜ]{1,3})(-[ ]?|[ ])([A-Z]{1,2})[ ]?(\d{1,4})([EH])?(?![\w-])")
PLATE_LOWER = re.compile(r"(?<![\w-])([a-zäöü]{1,3})(?:-[ ]?|[ ])([a-z]{1,2})[ ]?(\d{1,4})([eh])?(?![\w-])")
# Short words that are no district or letter group of a lower-case plate ("für ab 12 Uhr").
PLATE_NOT_LOWER: FrozenSet[str] = frozenset({
    "ab", "am", "an", "auf", "aus", "bei", "bis", "da", "das", "dem", "den", "der", "die", "ein", "er", "es", "für",
    "im", "in", "ist", "ja", "mit", "ob", "so", "um", "und", "vom", "von", "vor", "was", "wer", "wie", "zu", "zum",
    "zur", "ca", "pro", "je", "nr", "tel", "uhr", "mal", "st", "kw", "wo", "du", "ich", "wir", "sie", "nun", "oft",
})
PLATE_CONTEXT = re.compile(r"kennzeichen|kfz|auto|fahrzeug|wagen|motorrad|pkw|lkw|anhänger|roller|zulass|halter",
                           re.IGNORECASE)
PLATE_NOT_DISTRICT: FrozenSet[str] = frozenset({"DIN", "ISO", "EN", "KW", "NR", "TOP", "EU", "USB", "PDF", "PIN",
                                                "TAN", "ID", "AZ", "OG", "EG", "UG", "DG", "RE", "RB", "ICE", "IC"})

_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_MONTH_NAME = (r"(?:januar|jänner|februar|märz|maerz|april|mai|juni|juli|august|september|oktober|november|"
               r"dezember|jan|feb|mär|apr|jun|jul|aug|sept|sep|okt|nov|dez)")
DATES = [
    re.compile(rf"(?<![\d,])(?<!\d\.)\b{_DAY}\.[ ]?{_MONTH}\.[ ]?(?:(?:19|20)\d{{2}}|\d{{2}})(?![\d])(?!\.\d)"),
    re.compile(rf"(?<![\d/])\b{_DAY}/{_MONTH}/(?:19|20)\d{{2}}(?![\d/])"),
    re.compile(r"(?<![\d-])\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?![\d-])"),
    re.compile(rf"(?<![\d.,])\b{_DAY}\.?[ ]?{_MONTH_NAME}\.?[ ]?(?:19|20)\d{{2}}(?!\d)", re.IGNORECASE),
]

_SUFFIX = r"(?i:straße|strasse|str\.|str|weg|gasse|platz|allee|ring|damm|ufer|chaussee|steig|pfad)"
_SUFFIX_WORD = r"(?:Straße|Strasse|Str\.|Str|Weg|Gasse|Platz|Allee|Ring|Damm|Ufer|Chaussee|Steig|Pfad)"
_HOUSE_NUMBER = r"\d{1,4}[a-zA-Z]?(?:[ ]?[-/][ ]?\d{1,4}[a-zA-Z]?)?(?![\d\w])"
_ADJECTIVE = (r"(?:Alte|Neue|Große|Kleine|Obere|Untere|Hohe|Lange|Breite|Innere|Äußere|Hintere|Vordere|Mittlere|"
              r"Krumme|Schöne|Stille|Weiße|Rote|Grüne|Heilige|Enge|Kurze|[A-ZÄÖÜ][a-zäöüß]+er)")
STREET = re.compile(rf"(?<![\w-])(?:({_ADJECTIVE})[ ])?([A-Za-zÄÖÜäöüß][\wäöüß-]*?{_SUFFIX})[ ]?({_HOUSE_NUMBER})")
STREET_TWO_WORDS = re.compile(rf"(?<![\w-])({_ADJECTIVE})[ ]{_SUFFIX_WORD}[ ]?{_HOUSE_NUMBER}")
# Capitalised words ending in -er that are no street adjective ("Oder Hauptstraße 5" keeps "Oder").
NOT_ADJECTIVE: FrozenSet[str] = frozenset({
    "Der", "Oder", "Aber", "Über", "Unter", "Hinter", "Meiner", "Unserer", "Ihrer", "Seiner", "Einer", "Jeder",
    "Dieser", "Welcher", "Wieder", "Immer", "Weiter", "Sicher", "Vater", "Mutter", "Bruder", "Schwester", "Nummer",
    "Adresse", "Anschrift", "Wer", "Hier", "Später", "Früher", "Vorher", "Nachher", "Leider", "Euer", "Oktober",
    "November", "Dezember", "September", "Mieter", "Vermieter", "Eigentümer", "Nachbar", "Nachbarn",
})
STREET_PREPOSITION = re.compile(r"(?<![\w-])(?:Am|An der|An den|Im|Auf dem|Auf der|Hinter dem|Hinter der|Vor dem|"
                                r"Unter den|In den|Zum|Zur)[ ](?:[a-zäöü]+(?:e|en|er|es)[ ])?([A-ZÄÖÜ][\wäöüß-]+)[ ]"
                                rf"({_HOUSE_NUMBER})")
POSTCODE_TOWN = re.compile(r"(?<![\d.,/-])\b(?:0[1-9]|[1-9]\d)\d{3}[ ]+([A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)*)"
                           r"(?:[ ](?:am|an der|im|in|ob der|bei|vor der)[ ][A-ZÄÖÜ][a-zäöüß]+"
                           r"|[ ]?\([A-ZÄÖÜ][a-zäöüß]+\))?")
POSTCODE_TOWN_LOWER = re.compile(r"(?<![\d.,/-])\b(?:0[1-9]|[1-9]\d)\d{3}[ ]+([a-zäöü][a-zäöüß]{2,}(?:-[a-zäöü]+)*)")
# Before a postcode with a town in lower case ("wohne in 80331 münchen").
POSTCODE_CONTEXT = re.compile(r"(?:\b(?:in|nach|aus|plz|postleitzahl|wohnort|wohnhaft|adresse|anschrift)\b[\s:]*|"
                              r"\d[a-z]?,[ ]*)$", re.IGNORECASE)
NOT_TOWN_LOWER: FrozenSet[str] = frozenset({"oder", "und", "bis", "mal", "euro", "eur", "bitte", "danke", "ist", "sind",
                                            "war", "hat", "habe", "uhr", "ich", "wir", "mit", "für", "von", "auf"})
# Words after "Marktplatz 2" or before "80331 ..." that show a number is no house number or postcode.
NOT_AFTER_NUMBER = re.compile(r"[ ]?(?:uhr|std|stunden?|min|minuten?|euro|eur|€|%|tage?n?|wochen?|monate?n?|jahre?n?|"
                              r"mal|x\b|km|m\b|m²|meter|personen|kinder|plätze|stück|exemplare?|punkte?|seiten?|"
                              r"prozent|cent|ct)(?!\w)", re.IGNORECASE)
NOT_TOWN: FrozenSet[str] = frozenset({
    "Euro", "Einwohner", "Menschen", "Personen", "Stück", "Exemplare", "Punkte", "Kilometer", "Meter", "Anträge",
    "Fälle", "Haushalte", "Mitarbeiter", "Bürger", "Kinder", "Seiten", "Stunden", "Minuten", "Tage", "Jahre",
    "Einwohnerinnen", "Besucher", "Wohnungen", "Mal", "Uhr",
})
NOT_STREET_NAME: FrozenSet[str] = frozenset({
    "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag", "wochenende", "januar",
    "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "dezember",
    "jahr", "monat", "quartal", "sommer", "winter", "herbst", "frühjahr", "frühling", "raum", "zimmer", "stock",
    "erdgeschoss", "obergeschoss", "untergeschoss", "gebäude", "schalter", "alter", "moment", "durchschnitt",
    "anhang", "formular", "feld", "kapitel", "abschnitt", "absatz", "paragraph", "bus", "zug", "termin",
    "haus", "ganzen", "prinzip", "grunde", "schnitt", "falle", "rahmen", "zeitraum", "vorfeld", "nachgang",
    "kasse", "eingang", "ausgang", "automaten", "automat", "terminal", "gleis", "bahnsteig", "empfang", "ende",
    "anfang", "tor", "fenster", "tisch", "stand", "info", "infotheke", "wartebereich", "stockwerk", "geschoss",
})
NOT_STREET_WORD: FrozenSet[str] = frozenset({
    "bundesstraße", "bundesstrasse", "staatsstraße", "kreisstraße", "landesstraße", "einbahnstraße",
    "parkplatz", "arbeitsplatz", "stellplatz", "kitaplatz", "krippenplatz", "betreuungsplatz", "sitzplatz",
    "studienplatz", "ausbildungsplatz", "spielplatz", "platz", "rückweg", "umweg", "radweg", "schulweg",
    "dienstweg", "rechtsweg", "zahlungsweg", "postweg", "heimweg", "weg", "ring", "damm", "ufer", "allee",
    "gasse", "straße", "strasse", "str", "str.", "pfad", "steig", "schlüsselring", "ehering", "bring",
})

# One character at a time (a digit, or a separator right before a digit): no nested repetition,
# so a long run of digits costs linear time. The digit count (7 to 17) is checked afterwards.
PHONE = re.compile(r"(?<![\w+])(?<!\d[/.,:-])(?<!\d[/.,:-][ ])"
                   r"(?:\+[ ]?|00|\([ ]?0\d{1,5}[ ]?\)[ ]?|0)\d"
                   r"(?:\d|[ ]?\(0\)[ ]?(?=\d)|(?:[ ]?[/-][ ]?|[ ])(?=\d))*(?!\d)(?![.,]\d)")

# A number after "Kundennummer", "Belegnummer", "Aktenzeichen" ... is a reference, not a phone number.
REFERENCE_CONTEXT = re.compile(r"(?:beleg|kunden|rechnungs|vorgangs|bestell|antrags|kassen|referenz|buchungs|"
                               r"auftrags|vertrags|mitglieds|akten|versicherungs|fall|ticket)[\s-]?(?:nummer|nr\b|"
                               r"nr\.|zeichen)[\s.:]*$", re.IGNORECASE)


Detector = Callable[[str], Iterator[Span]]


def preceded_by(context: "re.Pattern[str]", text: str, start: int, window: int = 45) -> bool:
    """Whether a context word occurs in the ``window`` characters before ``start``."""
    return context.search(text[max(0, start - window):start]) is not None


def non_units(text: str, end: int) -> bool:
    """Whether the text after a number at ``end`` is not a unit such as "Uhr", "Stunden" or "Euro"."""
    return NOT_AFTER_NUMBER.match(text, end) is None
