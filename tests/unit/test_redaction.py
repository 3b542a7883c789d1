"""Personal-data redaction: the labelled German set, each category, checksums, idempotence, the log filter."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from bot.privacy import find_personal_data, redact
from bot.privacy.log_filter import RedactingFilter, install_redacting_filter, remove_redacting_filter
from bot.privacy.patterns import iban_is_valid, icao_check_digit, tax_id_is_valid

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "redaction_de.jsonl"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_redaction", ROOT / "bench" / "redaction.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_redaction"] = module
    spec.loader.exec_module(module)
    return module


def labels(text: str) -> list:
    return [span.label for span in find_personal_data(text)]


# --- the labelled set -------------------------------------------------------------------------

def test_labelled_set_is_well_formed() -> None:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 150
    with_data = sum(1 for row in rows if row["spans"])
    assert 0.5 <= with_data / len(rows) <= 0.7
    counts: dict = {}
    for row in rows:
        for span in row["spans"]:
            assert 0 <= span["start"] < span["end"] <= len(row["text"])
            counts[span["label"]] = counts.get(span["label"], 0) + 1
    assert set(counts) == {"E-MAIL", "TELEFON", "IBAN", "STEUER-ID", "AUSWEIS-NR", "KENNZEICHEN", "DATUM", "ADRESSE"}
    assert min(counts.values()) >= 8


@pytest.mark.parametrize("data", [DATA, DATA.with_name("redaction_de_holdout.jsonl")], ids=["main", "holdout"])
def test_recall_and_precision_on_the_labelled_set(data: Path) -> None:
    bench = _bench()
    report = bench.score(bench.load(data))
    assert report.overall.recall >= 0.95, report.misses
    assert report.overall.precision >= 0.90, report.false_alarms
    assert report.overall.char_recall >= 0.95


# --- checksums --------------------------------------------------------------------------------

def test_iban_checksum() -> None:
    assert iban_is_valid("DE89370400440532013000")
    assert iban_is_valid("GB29NWBK60161331926819")
    assert iban_is_valid("de89370400440532013000")
    assert not iban_is_valid("DE89370400440532013001")
    assert not iban_is_valid("DE8937040044053201300")  # one character short
    assert not iban_is_valid("XX89370400440532013000")


def test_tax_id_check_digit() -> None:
    for valid in ("86095742719", "47036892816", "65929970489", "57549285017", "25768131411"):
        assert tax_id_is_valid(valid), valid
    assert not tax_id_is_valid("86095742710")  # wrong check digit
    assert not tax_id_is_valid("02476291358")  # leading zero
    assert not tax_id_is_valid("12345678903")  # no digit repeated
    assert not tax_id_is_valid("1234567890")


def test_icao_check_digit() -> None:
    assert icao_check_digit("L01X00T47") == 1
    assert icao_check_digit("C01X00T47") == 8


# --- categories -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "label"),
    [("mail an anna.schmidt@gmx.de bitte", "E-MAIL"),
     ("lena.weber (at) gmx.net", "E-MAIL"),
     ("Ruf an: 0171 2345678", "TELEFON"),
     ("Tel +49 30 1234567", "TELEFON"),
     ("(030) 123 45 67", "TELEFON"),
     ("0049 89 23344556", "TELEFON"),
     ("030/123456", "TELEFON"),
     ("+49 (0) 711 123456", "TELEFON"),
     ("DE89 3704 0044 0532 0130 00", "IBAN"),
     ("DE89370400440532013000", "IBAN"),
     ("GB29 NWBK 6016 1331 9268 19", "IBAN"),
     ("86095742719", "STEUER-ID"),
     ("86 095 742 719", "STEUER-ID"),
     ("Ausweisnummer L01X00T47", "AUSWEIS-NR"),
     ("Passnummer c01x00t47", "AUSWEIS-NR"),
     ("L01X00T471", "AUSWEIS-NR"),
     ("M-AB 1234", "KENNZEICHEN"),
     ("Auto B AB 123", "KENNZEICHEN"),
     ("HH-X 99H", "KENNZEICHEN"),
     ("LÖ-XY 42", "KENNZEICHEN"),
     ("geboren am 01.02.1980", "DATUM"),
     ("geb. 1.2.80", "DATUM"),
     ("1980-02-01", "DATUM"),
     ("1. Februar 1980", "DATUM"),
     ("am 12.03.2026 habe ich einen Termin", "DATUM"),
     ("Hauptstraße 5", "ADRESSE"),
     ("Am Markt 12a", "ADRESSE"),
     ("Lindenweg 3", "ADRESSE"),
     ("Schillerplatz 1", "ADRESSE"),
     ("80331 München", "ADRESSE")],
)
def test_each_category_is_found(text: str, label: str) -> None:
    assert label in labels(text)


def test_street_and_town_become_one_placeholder() -> None:
    assert redact("Adresse: Berliner Str. 7, 80331 München.") == "Adresse: [ADRESSE]."
    assert redact("wohne in 80331 münchen") == "wohne in [ADRESSE]"
    assert redact("Rückruf an 0821 34567 oder an Pferseer Str. 3") == "Rückruf an [TELEFON] oder an [ADRESSE]"


@pytest.mark.parametrize(
    "text",
    ["Öffnungszeiten 8 bis 12 Uhr, Do 14:00-18:00",
     "Der Pass kostet 70,00 €, ermäßigt 46,00 €",
     "Im Jahr 2026 läuft er ab",
     "nach § 25 Abs. 2 BMG",
     "Vorgang AK-7KQ2-M9XD",
     "Aktenzeichen 32-1234/2025",
     "Durchwahl 12 bitte",
     "am 3. Mai um 10:30 Uhr",
     "bis 15.04.",
     "Ich wohne in 80331",
     "Ist das in der Bahnhofstraße?",
     "Kann ich am Schillerplatz 2 Stunden parken?",
     "Am Montag 9 Uhr",
     "Im Juni 2026",
     "Kopien in DIN A 4",
     "Notruf 112, Behördennummer 115",
     "Antragsnummer 2026/004711",
     "Belegnummer 0012345678",
     "1.250 Euro Einkommen, Version 2.3",
     "Formular KG 1, Zimmer B 204, Linie 52",
     "Was kostet ein Personalausweis? 46 Euro ab 24 Jahren, 2 Wochen Frist."],
)
def test_look_alikes_are_kept(text: str) -> None:
    assert find_personal_data(text) == []
    assert redact(text) == text


def test_checksums_protect_precision_without_context() -> None:
    assert labels("Nummer 86095742710") == []  # 11 digits, wrong check digit, no context word
    assert labels("Steuer-ID 86095742710") == ["STEUER-ID"]  # a typo after the context word is still redacted
    assert labels("Code DE89370400440532013001 bitte") == []
    assert labels("IBAN DE89370400440532013001") == ["IBAN"]
    assert labels("L01X00T479") == []  # tenth character is a wrong check digit


def test_spans_are_sorted_and_do_not_overlap() -> None:
    text = ("geb. 04.05.1971, Lindenweg 3, 86150 Augsburg, Tel. 0821 123456, IBAN DE89 3704 0044 0532 0130 00, "
            "Steuer-ID 86095742719, Mail a@b.de, Kennzeichen A-XY 815, Ausweis L01X00T47")
    spans = find_personal_data(text)
    assert [s.label for s in spans] == ["DATUM", "ADRESSE", "TELEFON", "IBAN", "STEUER-ID", "E-MAIL", "KENNZEICHEN",
                                        "AUSWEIS-NR"]
    assert all(a.end <= b.start for a, b in zip(spans[:-1], spans[1:], strict=True))
    assert redact(text) == ("geb. [DATUM], [ADRESSE], Tel. [TELEFON], IBAN [IBAN], Steuer-ID [STEUER-ID], "
                            "Mail [E-MAIL], Kennzeichen [KENNZEICHEN], Ausweis [AUSWEIS-NR]")


def test_placeholders_are_stable_and_redaction_is_idempotent() -> None:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        once = redact(row["text"])
        assert redact(once) == once, row["text"]
    already = "Mail [E-MAIL], Tel [TELEFON], [IBAN] [STEUER-ID] [AUSWEIS-NR] [KENNZEICHEN] [DATUM] [ADRESSE]"
    assert redact(already) == already  # redacted text (e.g. a stored ticket) is not touched twice


def test_two_phone_numbers_in_a_row_are_both_found() -> None:
    assert redact("Tel 0171 2345678 0176 1234567") == "Tel [TELEFON] [TELEFON]"


def test_long_inputs_take_linear_time() -> None:
    started = time.perf_counter()
    for text in ("0" + "1" * 20000, ("0" + "1" * 70 + " ") * 300, "Hauptstraße Am Markt DE89 M-AB 1 " * 1000,
                 "a" * 100_000, "1." * 10000):
        redact(text)
    assert time.perf_counter() - started < 2.0


def test_empty_and_plain_text() -> None:
    assert redact("") == ""
    assert find_personal_data("Hallo, wie beantrage ich einen Reisepass?") == []


# --- log filter -------------------------------------------------------------------------------

@pytest.fixture
def redacting_logs() -> Iterator[None]:
    factory = logging.getLogRecordFactory()
    install_redacting_filter()
    try:
        yield
    finally:
        remove_redacting_filter()
        logging.setLogRecordFactory(factory)


def test_log_records_of_any_logger_are_redacted_in_a_real_file(redacting_logs: None, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    handler = logging.FileHandler(path, encoding="utf-8")  # added after install, on a non-propagating logger
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("auskunft.test.redaction.late")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        logger.info("ticket from %s, phone %s", "anna.schmidt@gmx.de", "0171 2345678")
        logger.warning("IBAN DE89 3704 0044 0532 0130 00 and born %(born)s", {"born": "03.04.1985"})
        try:
            raise ValueError("bad address Hauptstraße 5, 80331 München")
        except ValueError:
            logger.exception("failed for %s", "max@example.org")
    finally:
        logger.removeHandler(handler)
        handler.close()
    written = path.read_text(encoding="utf-8")
    assert "INFO auskunft.test.redaction.late ticket from [E-MAIL], phone [TELEFON]" in written
    assert "IBAN [IBAN] and born [DATUM]" in written
    assert "failed for [E-MAIL]" in written and "ValueError: bad address [ADRESSE]" in written
    for secret in ("anna.schmidt", "2345678", "0532", "1985", "Hauptstraße", "max@example"):
        assert secret not in written


def test_redacting_filter_on_a_handler_covers_records_made_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "socket.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.addFilter(RedactingFilter())
    record = logging.makeLogRecord({"name": "remote", "levelno": logging.INFO, "levelname": "INFO",
                                    "msg": "Rückruf an %s", "args": ("+49 30 1234567",)})
    try:
        handler.handle(record)
    finally:
        handler.close()
    assert path.read_text(encoding="utf-8").strip() == "Rückruf an [TELEFON]"
    assert record.args == () and record.msg == "Rückruf an [TELEFON]"


def test_install_is_idempotent_and_broken_format_strings_do_not_leak(redacting_logs: None) -> None:
    install_redacting_filter()
    factory = logging.getLogRecordFactory()
    install_redacting_filter()
    assert logging.getLogRecordFactory() is factory
    for handler in logging.getLogger().handlers:
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    record = logging.getLogger("auskunft.test").makeRecord("x", logging.INFO, "f", 1, "%d %d", ("a@b.de",), None)
    assert "a@b.de" not in record.getMessage() and "[E-MAIL]" in record.getMessage()
