"""Write ``tests/data/redaction_de_holdout.jsonl``: a second, smaller set by a different author.

Written after the redactor, by someone who had not read its patterns, with the labelling rules
of ``make_redaction_set.py`` (same mark-up). It is scored separately in docs/privacy.md so that the
figure is not only the one the patterns were tuned on.

    python tests/data/make_redaction_holdout.py
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.data.make_redaction_set import parse

OUT = Path(__file__).resolve().parent / "redaction_de_holdout.jsonl"

MESSAGES = [
    "hallo ich bin umgezogen nach [[ADRESSE:Kastanienallee 17, 10435 Berlin]] was muss ich machen",
    "Meine neue Adresse ist [[ADRESSE:Friedrich-Ebert-Straße 112]], seit letzter Woche",
    "bitte rufen sie zurück [[TELEFON:0152/28817364]] danke",
    "Sie erreichen mich tagsüber unter [[TELEFON:+49 (0) 89 2350 4411]].",
    "mail an [[E-MAIL:k.oezdemir@posteo.de]] bitte, nicht per post",
    "Ich habe die Rechnung überwiesen von [[IBAN:DE02 1203 0000 0000 2020 51]], ist das angekommen?",
    "Mein Sohn ist am [[DATUM:14.07.2011]] geboren, braucht er schon einen Ausweis?",
    "geburtsdatum [[DATUM:3.11.1958]], rentnerin, frage zur grundsteuer",
    "Das Auto mit dem Kennzeichen [[KENNZEICHEN:A-KL 4711]] wurde abgeschleppt, wo kann ich es abholen?",
    "Ich will mein Kennzeichen [[KENNZEICHEN:FFB-MZ 88]] behalten, geht das beim Umzug?",
    "Steuer-ID [[STEUER-ID:86095742719]] – wo finde ich meinen Grundsteuerbescheid?",
    "meine ausweisnummer ist [[AUSWEIS-NR:L01X00T47]], der ausweis ist abgelaufen",
    "Der Termin ist am [[DATUM:02.12.2026]] um 10:30 Uhr, kann ich ihn verschieben?",
    "Ich wohne [[ADRESSE:Am Anger 3a]] und der Müll wurde nicht abgeholt.",
    "Sperrmüll bitte abholen bei [[ADRESSE:Lindenweg 9, 86150 Augsburg]], Tel. [[TELEFON:0821 455667]]",
    "Hallo, ich heiße Jana und mein Reisepass Nr. [[AUSWEIS-NR:C4J8R2T9V]] ist weg",
    "Können Sie mir an [[E-MAIL:jana.m+stadt@web.de]] schreiben?",
    "IBAN für die Erstattung: [[IBAN:DE89370400440532013000]]",
    "Ich bin am [[DATUM:1. April 1990]] geboren und brauche eine Geburtsurkunde",
    "Handy [[TELEFON:01761234567]], bitte nur nachmittags",
    # without personal data
    "Wann hat das Bürgerbüro am Donnerstag geöffnet? Bis 18 Uhr?",
    "Was kostet ein Reisepass für Personen ab 24 Jahren, 70 Euro?",
    "Ich habe die Fallnummer AK-3HQ9-ZP7K bekommen, gibt es schon eine Antwort?",
    "Gilt § 15 der Satzung auch für Balkonkraftwerke bis 800 Watt?",
    "Der Wertstoffhof in der Nähe vom Rathaus, hat der samstags auf?",
    "Brauche ich für die Ummeldung einen Termin oder geht das ohne?",
    "Mein Antrag vom 3. Mai ist noch nicht bearbeitet.",
    "Wie lange dauert ein Führungszeugnis, 2 Wochen?",
    "Ist die Kfz-Zulassungsstelle im Gebäude B, Zimmer 104?",
    "Was passiert mit der Grundsteuer ab 2025?",
    "Kann ich 3 Säcke Grünschnitt abgeben?",
    "Wo ist die Ausländerbehörde, in der Hauptstraße?",
    "Ich brauche das Formular A 12 für den Wohngeldantrag.",
    "Wahlbenachrichtigung für die Wahl im März 2026 nicht bekommen",
    "Die Hotline 115 war besetzt, gibt es eine andere Nummer?",
]


def main() -> None:
    """Write the file."""
    rows = [parse(message) for message in MESSAGES]
    OUT.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    print(f"{len(rows)} messages written to {OUT}")


if __name__ == "__main__":
    main()
