"""Write ``tests/data/redaction_de.jsonl``: German chatbot messages with gold personal-data spans.

The messages are written below in a small mark-up, ``[[LABEL:text]]``, and this script turns
them into plain text with exact character offsets, so no offset is ever typed by hand::

    "Ruf mich an unter [[TELEFON:0171 2345678]]"
    -> {"text": "Ruf mich an unter 0171 2345678", "spans": [{"start": 18, "end": 30, "label": "TELEFON"}]}

All data is invented. IBANs are official documentation examples (DE89 3704 0044 0532 0130 00,
GB29 NWBK 6016 1331 9268 19, NL91 ABNA 0417 1643 00) or were generated with a valid mod-97
checksum; tax ids were generated with a valid ISO 7064 MOD 11,10 check digit; ID-card and
passport numbers were generated from the serial-number alphabet (with a valid ICAO 9303 check
digit where a tenth character is given). A few values carry a deliberate typo (checksum wrong),
as citizens make them; they are personal data all the same and are labelled.

Labelling rules (the redactor's documented rules, applied by hand, independently of its code):

- DATUM: every calendar date with day, month *and year* (01.02.1980, 1.2.80, 1980-02-01,
  05/08/1992, "1. Februar 1980"), whatever it is for: birth, appointment, expiry. Dates without
  a year ("am 3. Mai", "bis 15.04."), month and year ("März 2026"), years alone, weekdays and
  times are not personal data here.
- ADRESSE: street + house number ("Hauptstraße 5", "Am Markt 12a", "Goethestr 14") and
  postcode + town ("80331 München"); "street number, postcode town" is one span. A street
  without a number, a town alone and a postcode alone ("ich wohne in 80331") are not labelled.
  Addresses of the agency itself are labelled too: the redactor cannot know whose they are.
- TELEFON: every phone number, the agency's included; short service numbers (110, 112, 115)
  and an extension alone ("Durchwahl 12") are not labelled.
- Case numbers (AK-7KQ2-M9XD), Aktenzeichen, form names, paragraphs, prices, times, amounts
  and years are never labelled. Names of people are out of scope (not labelled, not redacted).

    python tests/data/make_redaction_set.py      # rewrites tests/data/redaction_de.jsonl
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

OUT = Path(__file__).resolve().parent / "redaction_de.jsonl"
LABELS = {"E-MAIL", "TELEFON", "IBAN", "STEUER-ID", "AUSWEIS-NR", "KENNZEICHEN", "DATUM", "ADRESSE"}
MARK = re.compile(r"\[\[([A-Z-]+):(.+?)\]\]")

WITH_PERSONAL_DATA = [
    # --- e-mail ---
    "Schreiben Sie mir bitte an [[E-MAIL:anna.schmidt@gmx.de]], ich bin tagsüber nicht erreichbar.",
    "meine mail ist [[E-MAIL:tom_becker85@web.de]] danke",
    "Email:[[E-MAIL:j.mueller@t-online.de]]",
    "Könnt ihr die Bestätigung an [[E-MAIL:familie.yilmaz@outlook.com]] schicken?",
    "kontakt [[E-MAIL:k.nowak+amt@posteo.de]] bitte nur per mail",
    "Ich hab an [[E-MAIL:buergerbuero@stadt-musterstadt.de]] geschrieben aber keine Antwort bekommen",
    "bitte antwort an [[E-MAIL:MAX.MUSTERMANN@EXAMPLE.ORG]]",
    "meine adresse ist [[E-MAIL:lena.weber (at) gmx.net]] wegen spam so geschrieben",
    "Sie erreichen mich unter [[E-MAIL:s.hoffmann@uni-augsburg.de]] oder telefonisch [[TELEFON:0821 598 1234]].",
    "Mail an [[E-MAIL:peter.klein@web.de]], Tel [[TELEFON:0151/23456789]]",
    "hab mich vertippt, richtig ist [[E-MAIL:maria.gonzalez1990@gmail.com]]",
    "Die Rechnung ging an [[E-MAIL:info@schreinerei-huber.de]], das ist meine Firma",
    # --- phone ---
    "Ruf mich an unter [[TELEFON:0171 2345678]]",
    "Meine Nummer: [[TELEFON:+49 30 1234567]]",
    "tel [[TELEFON:(030) 123 45 67]] ab 18 uhr",
    "ich bin erreichbar unter [[TELEFON:0049 89 23344556]]",
    "[[TELEFON:030/123456]] ab 17 Uhr, vorher arbeite ich",
    "Handy [[TELEFON:0176-98765432]]",
    "Rückruf bitte auf [[TELEFON:0821/324-2211]]",
    "Ich habe die [[TELEFON:089 233-96000]] angerufen, Durchwahl 12, aber keiner geht ran",
    "Meine Festnetznummer ist [[TELEFON:07151 501-0]], mein Mann geht ran",
    "rufen sie mich zurück [[TELEFON:01521234567]]",
    "Tel.: [[TELEFON:+49 (0) 711 123456]]",
    "Bitte melden unter [[TELEFON:0160 / 987 65 43]], danke!",
    "whatsapp geht auch [[TELEFON:+4917612345678]]",
    "Nr [[TELEFON:0911-5554321]] ist die von meiner Mutter, sie braucht Hilfe beim Antrag",
    # --- IBAN ---
    "Meine IBAN ist [[IBAN:DE89 3704 0044 0532 0130 00]]",
    "iban [[IBAN:DE44500105175407324931]] für die Erstattung",
    "Bitte überweisen Sie die Kaution zurück auf [[IBAN:DE75 1203 0000 1020 3040 50]]",
    "Konto: [[IBAN:AT24 2011 1822 2121 9800]] (österreichische Bank)",
    "Meine Bankverbindung: [[IBAN:NL91 ABNA 0417 1643 00]]",
    "IBAN:[[IBAN:de61760501010012345678]]",
    "Die Hundesteuer soll von [[IBAN:ES91 2100 0418 4502 0005 1332]] abgebucht werden",
    "neue Kontonr [[IBAN:DE13 7015 0000 0098 7654 32]] ab nächsten Monat",
    "Erstattung bitte auf mein englisches Konto [[IBAN:GB29 NWBK 6016 1331 9268 19]]",
    "meine IBAN lautet [[IBAN:DE60 4306 0967 1122 3344 56]]",
    "[[IBAN:PL61 1090 1014 0000 0712 1981 2874]] ist mein polnisches Konto, geht das?",
    "Gebühr von meinem Konto [[IBAN:DE62 1005 0000 0190 4567 89]] abbuchen, die 37,00 € sind ok",
    # --- Steuer-ID ---
    "Meine Steuer-ID ist [[STEUER-ID:59 269 074 131]]",
    "steuerliche Identifikationsnummer: [[STEUER-ID:16809731423]]",
    "IdNr [[STEUER-ID:94420851367]] für die Kita-Gebühren",
    "Steueridentifikationsnummer des Kindes [[STEUER-ID:93 745 482 164]], reicht das?",
    "Die Steuer ID meiner Tochter lautet [[STEUER-ID:31487925804]]",
    "[[STEUER-ID:52173098161]] ist meine Steuernummer glaub ich",
    "meine Tax ID ist [[STEUER-ID:65013217493]], ich komme aus Spanien",
    "TIN: [[STEUER-ID:36879018529]]",
    "steuer-id:[[STEUER-ID:84625531076]]",
    "Steuer-ID [[STEUER-ID:24589306615]], die steht auf dem Brief",
    "die nummer [[STEUER-ID:95128460178]] steht auf dem Schreiben vom Finanzamt",
    "Für das Kindergeld: Kind 1 [[STEUER-ID:14 756 208 291]], Kind 2 [[STEUER-ID:76601983521]]",
    # --- ID card / passport ---
    "Hallo, ich habe meinen Ausweis verloren. Meine Ausweisnummer war [[AUSWEIS-NR:L01X00T47]], was muss ich tun?",
    "meine perso nummer ist [[AUSWEIS-NR:T3M2887L8]] und der ist abgelaufen",
    "Passnummer: [[AUSWEIS-NR:KJ1X83J294]]",
    "Dokumentennummer [[AUSWEIS-NR:LYPGJH6R6]], gültig bis 2031",
    "Seriennummer vom Personalausweis lautet [[AUSWEIS-NR:RT7M007ZR]]",
    "Ich hab die Nummer vom neuen Pass: [[AUSWEIS-NR:F3T83G94H6]]",
    "reisepass nr. [[AUSWEIS-NR:h83rg86vx]] wurde gestohlen",
    "Kann jemand prüfen ob mein Ausweis [[AUSWEIS-NR:NZTJ50C7Z3]] schon abholbereit ist?",
    "Personalausweisnummer:[[AUSWEIS-NR:XNL52TX86]]",
    "Mein alter Ausweis hatte die Nummer [[AUSWEIS-NR:VM9V68MLZ]], der neue ist noch nicht da.",
    "[[AUSWEIS-NR:WYT6CC8NY4]] ist meine Nummer, ist der fertig?",
    "Perso-Nr. [[AUSWEIS-NR:T22000129]] (steht oben rechts)",
    "Mein Kinderreisepass [[AUSWEIS-NR:G7H3KM9R1]] ist voll, brauche neuen",
    # --- licence plate ---
    "Kennzeichen [[KENNZEICHEN:M-AB 1234]]",
    "Mein Auto [[KENNZEICHEN:B AB 123]] wurde abgeschleppt, wo ist es?",
    "Mein Oldtimer hat [[KENNZEICHEN:HH-X 99H]], gilt die Ausnahme?",
    "Das E-Auto hat [[KENNZEICHEN:S-EL 2301E]] und ich will Parkausweis",
    "Ich will mein Kennzeichen [[KENNZEICHEN:LÖ-XY 42]] reservieren",
    "Wunschkennzeichen [[KENNZEICHEN:A-BC 123]] noch frei?",
    "abmeldung für [[KENNZEICHEN:WN-K 512]] bitte",
    "kennzeichen [[KENNZEICHEN:m-ab 1234]] ist mein zweitwagen",
    "Strafzettel für [[KENNZEICHEN:FFB-LM 77]] bekommen obwohl ich Anwohnerparkausweis habe",
    "[[KENNZEICHEN:AIC-R 3]] umschreiben auf Augsburg, was brauche ich",
    "Mein Motorrad [[KENNZEICHEN:KÜN-T 88]] ist abgemeldet",
    "Kennzeichen:[[KENNZEICHEN:B-MW1234]]",
    # --- dates ---
    "geboren am [[DATUM:03.04.1985]]",
    "Geburtsdatum: [[DATUM:1.2.80]]",
    "geb. [[DATUM:12.11.1964]] in Augsburg",
    "mein Sohn ist am [[DATUM:2019-06-14]] geboren, braucht er einen Kinderpass?",
    "Ich bin am [[DATUM:1. Februar 1980]] geboren",
    "am [[DATUM:12.03.2026]] habe ich einen Termin, kann ich den verschieben?",
    "Termin am [[DATUM:5.5.2026]] um 10:30 Uhr, ich komme später",
    "Geburtstag [[DATUM:24. Dezember 1990]]",
    "geb.[[DATUM:07.07.1977]]",
    "mein Ausweis läuft am [[DATUM:30.09.2026]] ab",
    "geboren [[DATUM:3 März 1955]] in Polen",
    "Eheschließung war am [[DATUM:14.2.2015]] in Wien, muss ich das anmelden?",
    "Geburtsdatum [[DATUM:05/08/1992]]",
    "geb am [[DATUM:1.1.2000]]",
    # --- addresses ---
    "Ich wohne in der [[ADRESSE:Hauptstraße 5]]",
    "Meine Adresse: [[ADRESSE:Berliner Str. 7, 80331 München]]",
    "Wir sind umgezogen von [[ADRESSE:Lindenweg 3]] nach [[ADRESSE:Am Markt 12a]]",
    "ummelden, neue Adresse [[ADRESSE:Schillerplatz 1, 86150 Augsburg]]",
    "Die Mülltonne vor [[ADRESSE:Goethestr 14]] wurde nicht geleert",
    "wohne [[ADRESSE:Im Winkel 7]] seit 2019",
    "Sperrmüll abholen in der [[ADRESSE:Kastanienallee 23b]] am Freitag?",
    "Meldebescheinigung für [[ADRESSE:An der Bahn 3, 71332 Waiblingen]]",
    "Straßenlaterne kaputt vor dem Haus [[ADRESSE:Uferweg 8]]",
    "Meine Anschrift ist [[ADRESSE:Rosenheimer Straße 112, 81669 München]]",
    "Firma sitzt am [[ADRESSE:Kurfürstendamm 21]]",
    "[[ADRESSE:Auf dem Kreuz 4]] in [[ADRESSE:86152 Augsburg]] ist meine neue Wohnung",
    "wohne in der [[ADRESSE:mozartstr. 12]] im 3. Stock",
    "Ist die Zulassungsstelle noch in der [[ADRESSE:Ruppertstraße 19]]?",
    "Baustelle vor [[ADRESSE:Nibelungenring 40-42]] seit Wochen",
    "Wir wohnen [[ADRESSE:Alte Landstraße 2]], ist das noch Ihr Bezirk?",
    "Hausnummer fehlt im Brief, richtig ist [[ADRESSE:Birkenweg 17]]",
    # --- several categories ---
    "Ich, geb. [[DATUM:04.05.1971]], wohnhaft [[ADRESSE:Lindenweg 3, 86150 Augsburg]], "
    "Tel. [[TELEFON:0821 123456]], bitte um Rückruf",
    "Name: Eva Kraus, Mail [[E-MAIL:eva.k@web.de]], IBAN [[IBAN:DE28 2004 1111 0555 5555 00]]",
    "Fahrzeug [[KENNZEICHEN:A-XY 815]], Halterin wohnt [[ADRESSE:Bahnhofstraße 1]]",
    "Mein Pass [[AUSWEIS-NR:PJ4X7K2M9]] läuft am [[DATUM:17.08.2026]] ab, Termin geht erst im September",
    "steuer id [[STEUER-ID:59269074131]] und iban [[IBAN:DE44 5001 0517 5407 3249 31]] für die rückzahlung",
    "hallo ich bin der herr öztürk aus der [[ADRESSE:Gartenstraße 9]] und meine nummer [[TELEFON:01573 1122334]]",
    "Kennzeichen [[KENNZEICHEN:M-XY 4711]] auf mich, geb. [[DATUM:2.3.1969]], soll auf meinen Sohn umgeschrieben werden",
    "Rückfragen bitte an [[E-MAIL:ahmed.said@gmx.de]] oder [[TELEFON:0176 55512345]], "
    "Adresse [[ADRESSE:Am Hang 4, 71364 Winnenden]]",
]

WITHOUT_PERSONAL_DATA = [
    "Wann hat das Bürgerbüro geöffnet? Mo-Fr 8 bis 12 Uhr?",
    "Was kostet ein Reisepass? Ich hab gelesen 70,00 € für über 24-Jährige",
    "Ist die Zulassungsstelle am 3. Mai geöffnet?",
    "Mein Vorgang hat die Nummer AK-7KQ2-M9XD, wie ist der Stand?",
    "Ticket AK-3HF9-X2PL ist noch offen, bitte um info",
    "ak-9pq4-zt7r ist meine vorgangsnummer",
    "Nach § 25 Abs. 2 BMG muss ich mich ummelden?",
    "Was steht in § 3 PAuswG?",
    "Aktenzeichen 32-1234/2025, ich warte seit Wochen",
    "Az.: III/2-0815/2026 bitte beachten",
    "Ich habe 2 Kinder, 3 und 7 Jahre alt",
    "Im Jahr 2026 läuft mein Pass ab, wann soll ich den neuen beantragen?",
    "Seit 2019 wohne ich hier, muss ich was tun?",
    "Die Gebühr war 22,80 € und dann nochmal 6 €",
    "Formular A 38 oder KG 1, welches brauche ich?",
    "Passbild im Format 35 x 45 mm?",
    "Öffnungszeiten Di 7:30-12:30 und Do 14:00-18:00?",
    "Geht das bis 15.04.?",
    "Können Sie mich mit Durchwahl 12 verbinden?",
    "Wie lange dauert ein Ausweis? 2-3 Wochen oder 4?",
    "Die Bearbeitung dauert 10 bis 14 Werktage",
    "Termin um 10:30 Uhr in Raum 2.14",
    "Brauche ich Kopien in DIN A 4?",
    "Zimmer B 204 im 2. OG?",
    "Ich wohne in 80331, bin ich bei Ihnen richtig?",
    "Ist das Amt in der Bahnhofstraße barrierefrei?",
    "Fährt die Linie 52 zum Marktplatz?",
    "Am Montag 9 Uhr habe ich Zeit",
    "Im Juni 2026 ziehen wir um, wann muss ich mich ummelden?",
    "Kann ich am Schillerplatz 2 Stunden parken?",
    "Der Bus 100 fährt alle 20 Minuten",
    "Kindergeld 255 Euro pro Monat seit 2025?",
    "Hundesteuer 120 € im Jahr, für den zweiten Hund 180 €",
    "Mein Kind wird im März 6, ist die Einschulung dann 2026?",
    "Ich brauche 3 Exemplare der Geburtsurkunde",
    "Was kostet eine Meldebescheinigung, 5 oder 10 Euro?",
    "Habe die Antragsnummer 2026/004711 bekommen, was jetzt?",
    "Rechnung Nr. 4711-0815 vom März ist noch offen",
    "Ist die 115 auch am Wochenende erreichbar?",
    "Notruf 112 oder 110 wenn jemand im Treppenhaus liegt?",
    "Ich hab 1.250 Euro Einkommen, bekomme ich Wohngeld?",
    "Wohngeld für 2 Personen bei 1.800,50 € brutto?",
    "Bauantrag für 450 m² Grundstück, wie lange dauert das?",
    "Ein Personalausweis für Personen unter 24 Jahren kostet 22,80 Euro, oder?",
    "Ich bin 1980 geboren, brauche ich einen neuen Führerschein?",
    "Gilt die neue Regel ab 01.01.?",
    "Was ändert sich ab dem 1. Januar?",
    "Von KW 12 bis KW 14 bin ich im Urlaub",
    "Version 2.3 der App funktioniert nicht",
    "Beantragung nach § 6 Abs. 1 Satz 2 PassG",
    "Anlage 1 Nr. 3 zur Gebührenordnung, was heißt das?",
    "BAföG Antrag Formblatt 1 wo bekomme ich das",
    "Ich brauche ein Führungszeugnis Belegart O",
    "Kfz-Steuer für 1.598 ccm Hubraum?",
    "Umweltplakette grün für Euro 4 Diesel?",
    "Ich war am 12. wegen dem Ausweis da, ist er fertig?",
    "Der Termin ist Donnerstag 14 Uhr, Schalter 5",
    "Bitte um Rückruf zwischen 9 und 11",
    "Gebäude C, 3. Stock, Zimmer 312",
    "Ist die A 8 wegen der Baustelle gesperrt?",
    "Der Brief kam mit Vorgangsnummer 2025-11-0042",
    "Aktenzeichen 5 C 123/25 vom Amtsgericht",
    "Formular ESt 1 A für die Steuererklärung?",
    "Ich zahle die 46,00 € am Automaten, geht EC-Karte?",
    "Reisepass Express kostet 32 Euro extra?",
    "Zwischen 2019 und 2023 hab ich in Augsburg gewohnt",
    "Ich wohne jetzt in München, früher in Berlin",
    "wie hoch ist die zweitwohnungssteuer 2026? 9 %?",
    "Lärm jeden Tag von 22-6 Uhr, wer ist zuständig?",
    "Mein Kind ist 2 Jahre und 3 Monate alt",
    "Schlüssel mit Anhänger Nr 17 verloren, ist der im Fundbüro?",
    "Ist die Hauptstraße ab Hausnummer 20 gesperrt?",
    "Wie viele Punkte hab ich in Flensburg, ab 8 ist der Führerschein weg?",
    "Welche PLZ hat das Bürgerbüro?",
    "ab 16 Jahren braucht man einen Perso?",
    "Die Wartenummer A 117 wurde nicht aufgerufen",
    "Passfoto 3,5 x 4,5 cm biometrisch, kostet 15 €",
    "Ich will ein Kennzeichen reservieren, geht das online?",
    "Wie bekomme ich eine Steuer-ID für mein Neugeborenes?",
    "Wo finde ich meine IBAN auf der Karte?",
    "Habe vom 1. bis 14. Juli Urlaub, kann ich den Termin danach machen?",
    "Am Freitag 13 Uhr schließt das Amt?",
    "Gilt das E-Kennzeichen auch für Hybride mit 50 g CO2/km?",
    "Lohnsteuerklasse 3 und 5 oder 4/4?",
    "Was ist die Bankleitzahl der Stadtkasse?",
]


def parse(marked: str) -> Dict[str, object]:
    """Turn one marked-up message into ``{"text": ..., "spans": [...]}`` with exact offsets."""
    text: List[str] = []
    spans: List[Dict[str, object]] = []
    pos = 0
    length = 0
    for match in MARK.finditer(marked):
        before = marked[pos:match.start()]
        text.append(before)
        length += len(before)
        label, value = match.group(1), match.group(2)
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r} in {marked!r}")
        spans.append({"start": length, "end": length + len(value), "label": label})
        text.append(value)
        length += len(value)
        pos = match.end()
    text.append(marked[pos:])
    plain = "".join(text)
    if "[[" in plain or "]]" in plain:
        raise ValueError(f"broken mark-up in {marked!r}")
    return {"text": plain, "spans": spans}


def build() -> Tuple[List[Dict[str, object]], Counter]:
    """All examples, checked, plus a count of gold spans per label."""
    rows = [parse(m) for m in WITH_PERSONAL_DATA + WITHOUT_PERSONAL_DATA]
    for row, marked in zip(rows, WITH_PERSONAL_DATA + WITHOUT_PERSONAL_DATA, strict=True):
        if bool(row["spans"]) != (marked in WITH_PERSONAL_DATA):
            raise ValueError(f"message in the wrong list: {marked!r}")
        for span in row["spans"]:  # type: ignore[attr-defined]
            value = str(row["text"])[span["start"]:span["end"]]
            if value != value.strip() or not value:
                raise ValueError(f"span with outer blanks in {marked!r}")
    counts = Counter(span["label"] for row in rows for span in row["spans"])  # type: ignore[attr-defined]
    return rows, counts


def main() -> None:
    """Write the jsonl file and print a summary."""
    rows, counts = build()
    texts = [row["text"] for row in rows]
    if len(set(texts)) != len(texts):
        raise ValueError("duplicate messages")
    with OUT.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    with_data = sum(1 for row in rows if row["spans"])
    print(f"{len(rows)} messages, {with_data} with personal data ({with_data / len(rows):.0%}), "
          f"{len(rows) - with_data} without -> {OUT}")
    for label, count in sorted(counts.items()):
        print(f"  {label:12s} {count}")


if __name__ == "__main__":
    main()
