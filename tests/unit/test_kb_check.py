"""`auskunft kb check`: each check against a purpose-built broken kb, readability, exit codes."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
from datetime import date
from pathlib import Path
from string import Formatter
from typing import List

import pytest

from bot.kb.check import CheckResult, check_kb, load_tag_vocabulary, run_check
from bot.kb.i18n import format_value
from bot.kb.links import find_links, link_problem
from bot.kb.loader import load_entry
from bot.kb.messages import MESSAGES
from bot.kb.readability import english_syllables, flesch, german_syllables, sentences_of
from bot.kb.rules import Finding
from tests.conftest import ROOT

BROKEN = ROOT / "tests" / "fixtures" / "broken_kb"
TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def broken() -> CheckResult:
    return check_kb(BROKEN, today=TODAY)


def findings_for(result: CheckResult, path: str) -> List[Finding]:
    return [f for f in result.findings if f.path == path]


def assert_translated(finding: Finding) -> None:
    assert finding.code in MESSAGES, finding
    german, english = finding.message("de"), finding.message("en")
    assert german and english and german != english
    assert finding.hint("de") and finding.hint("en")
    for lang in ("de", "en"):  # every placeholder has a value
        names = {name for text in MESSAGES[finding.code][lang] for _, name, _, _ in Formatter().parse(text) if name}
        assert names <= set(finding.params), (finding.code, names)


@pytest.mark.parametrize(
    ("path", "line", "code", "severity"),
    [
        # loader problems, translated
        ("schema/unbekanntes-feld.md", 8, "unknown_field", "error"),
        ("schema/leere-antwort.md", 16, "answer_empty", "error"),
        ("schema/falsche-typen.md", 10, "invalid_plain", "error"),
        ("schema/falsche-typen.md", 11, "invalid_text_list", "error"),
        ("schema/doppelt-b.md", 2, "duplicate_id", "error"),
        # links in the answer and the source
        ("links/kaputte-links.md", 6, "source_http", "warning"),
        ("links/kaputte-links.md", 18, "link_empty", "error"),
        ("links/kaputte-links.md", 19, "link_javascript", "error"),
        ("links/kaputte-links.md", 20, "link_malformed", "error"),
        ("links/kaputte-links.md", 21, "link_malformed", "error"),
        ("links/kaputte-links.md", 22, "link_http", "warning"),
        ("links/kaputte-links.md", 23, "link_malformed", "error"),
        # tags (block list: one line per tag)
        ("tags/unbekannte-tags.md", 6, "tag_unknown", "warning"),
        ("tags/unbekannte-tags.md", 8, "tag_unknown_no_match", "warning"),
        # review dates
        ("review/ueberfaellig.md", 9, "review_overdue", "warning"),
        ("review/ohne-pruefdatum.md", 8, "review_missing", "info"),
        # length
        ("length/zu-lang.md", 16, "answer_too_long", "warning"),
        ("length/zu-lang.md", 16, "paragraph_too_long", "warning"),
        ("length/zu-lang.md", 18, "sentence_too_long", "warning"),
        # plain language
        ("language/ohne-plain.md", 10, "plain_missing", "warning"),
        ("language/schwer.md", 13, "hard_to_read", "warning"),
        ("language/schwer.md", 10, "plain_hard_to_read", "warning"),
        ("language/en-hard.md", 13, "hard_to_read", "warning"),
        # test questions the index has seen (they would test nothing)
        ("testfragen/testfrage-bekannt.md", 17, "test_is_phrasing", "warning"),
    ],
)
def test_each_check_names_file_line_code_in_both_languages(broken: CheckResult, path: str, line: int, code: str,
                                                           severity: str) -> None:
    matches = [f for f in findings_for(broken, path) if (f.line, f.code) == (line, code)]
    assert matches, [(f.line, f.code) for f in findings_for(broken, path)]
    assert matches[0].severity == severity
    assert_translated(matches[0])


def test_every_finding_of_the_broken_kb_is_expected_and_translated(broken: CheckResult) -> None:
    assert broken.errors == 10 and broken.warnings == 13
    assert broken.files == 15
    for finding in broken.findings:
        assert_translated(finding)
    assert findings_for(broken, "ok/alles-gut.md") == []  # mailto:, tel:, https links and a good plain version


def test_finding_details(broken: CheckResult) -> None:
    tag = next(f for f in broken.findings if f.code == "tag_unknown")
    assert tag.params["suggestion"] == "abfall" and "„abfall“" in tag.hint("de")
    long = next(f for f in broken.findings if f.code == "answer_too_long")
    assert "1.508 Zeichen" in long.message("de") and "1,508 characters" in long.message("en")
    js = next(f for f in broken.findings if f.code == "link_javascript")
    assert js.params["url"] == "javascript:alert(1)"
    schwer = next(f for f in broken.findings if f.code == "plain_hard_to_read")
    assert float(schwer.params["score"]) < 60
    unknown = next(f for f in broken.findings if f.code == "unknown_field")
    assert unknown.owner == "Bürgeramt"  # read from the rejected file for routing
    assert [(o.path, o.days, o.owner, o.review_by) for o in broken.overdue] == [
        ("review/ueberfaellig.md", 296, "Bürgeramt", date(2026, 1, 31))  # 2026-01-31 → 2026-11-23
    ]


def test_report_lines_and_summary() -> None:
    out = io.StringIO()
    assert run_check(BROKEN, today=TODAY, out=out) == 1
    text = out.getvalue()
    assert re.search(r"review/ueberfaellig\.md:9: Warnung \[review_overdue\] Die Überprüfung ist überfällig seit "
                     r"296 Tagen \(fällig am 2026-01-31\)\. → .+ \(Zuständig: Bürgeramt\)\n", text)
    assert "Ergebnis: 10 Fehler, 13 Warnungen, 1 Hinweis in 13 von 15 Dateien." in text
    assert "Überfällige Überprüfungen:" in text
    english = io.StringIO()
    run_check(BROKEN, lang="en", today=TODAY, out=english)
    assert "Result: 10 errors, 13 warnings, 1 note in 13 of 15 files." in english.getvalue()
    assert "Warning [answer_too_long] The answer has 1,508 characters" in english.getvalue()
    lines = [line for line in text.splitlines() if line.startswith(str(BROKEN.relative_to(ROOT)))]
    numbers = [(line.split(":")[0], int(line.split(":")[1])) for line in lines]
    assert numbers == sorted(numbers)  # grouped by file, sorted by line


def copy_kb(tmp_path: Path, *files: str) -> Path:
    tmp_path.mkdir(parents=True)
    shutil.copy(BROKEN / "_tags.yml", tmp_path / "_tags.yml")
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(BROKEN / name, tmp_path / name)
    return tmp_path


def test_exit_codes(tmp_path: Path) -> None:
    assert run_check(BROKEN, today=TODAY, out=io.StringIO()) == 1
    warnings_only = copy_kb(tmp_path / "warn", "review/ueberfaellig.md", "tags/unbekannte-tags.md")
    assert run_check(warnings_only, today=TODAY, out=io.StringIO()) == 0
    assert run_check(warnings_only, today=TODAY, strict=True, out=io.StringIO()) == 1
    clean = copy_kb(tmp_path / "ok", "ok/alles-gut.md", "review/ohne-pruefdatum.md")  # a note is no warning
    assert run_check(clean, today=TODAY, strict=True, out=io.StringIO()) == 0
    assert run_check(tmp_path / "missing", out=io.StringIO()) == 1


def test_sample_kb_has_no_errors_but_its_placeholders() -> None:
    """The sample kb's fictional figures are marked ``[Platzhalter]``: errors for publishing, and nothing else is."""
    out = io.StringIO()
    result = check_kb(ROOT / "kb", today=TODAY)
    assert {f.code for f in result.findings if f.severity == "error"} == {"placeholder"}
    assert result.errors == 198 and len({f.path for f in result.findings if f.code == "placeholder"}) == 80
    assert result.files == 98
    assert not any(f.code.startswith(("tag_", "tags_", "link_")) for f in result.findings)
    assert run_check(ROOT / "kb", today=TODAY, out=out) == 1
    assert "Fehler [placeholder] Platzhalter „[Platzhalter]“" in out.getvalue()
    print(f"sample kb: {result.errors} errors, {result.warnings} warnings, {len(result.findings)} findings")


def test_tag_vocabulary_formats(tmp_path: Path) -> None:
    assert load_tag_vocabulary(tmp_path)[1][0].code == "tags_file_missing"
    (tmp_path / "_tags.yml").write_text("- abfall\n- ausweis\n", encoding="utf-8")
    assert load_tag_vocabulary(tmp_path) == (["abfall", "ausweis"], [])
    (tmp_path / "_tags.yml").write_text("abfall: Müll\nausweis:\n", encoding="utf-8")
    assert load_tag_vocabulary(tmp_path)[0] == ["abfall", "ausweis"]
    (tmp_path / "_tags.yml").write_text("- Groß Geschrieben\n", encoding="utf-8")
    tags, findings = load_tag_vocabulary(tmp_path)
    assert tags is None and findings[0].code == "tags_file_invalid" and findings[0].severity == "error"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://musterstadt.example/a?b=c#d", None),
        ("mailto:info@musterstadt.example", None),
        ("tel:+49-000-123", None),
        ("http://musterstadt.example", "link_http"),
        ("", "link_empty"),
        ("JavaScript:void(0)", "link_javascript"),
        ("https://", "link_malformed"),
        ("https://localhost", "link_malformed"),
        ("/relative/path", "link_malformed"),
        ("ftp://musterstadt.example", "link_malformed"),
        ("tel:0000 123", "link_malformed"),
    ],
)
def test_link_problem(url: str, code: str) -> None:
    assert link_problem(url) == code


def test_find_links_handles_titles_and_autolinks() -> None:
    links = list(find_links('Siehe [A](https://a.example "Titel") und <https://b.example> oder ![Bild](x.png).'))
    assert [link.url for link in links] == ["https://a.example", "https://b.example"]


def test_german_readability_by_hand() -> None:
    # "Der Hund bellt. Die Katze schläft.": 2 sentences, 6 words,
    # syllables Der 1 + Hund 1 + bellt 1 + Die 1 + Kat-ze 2 + schläft 1 = 7.
    # FRE = 180 - 6/2 - 58.5 * 7/6 = 180 - 3 - 68.25 = 108.75
    result = flesch("Der Hund bellt. Die Katze schläft.", "de")
    assert (result.sentences, result.words, result.syllables) == (2, 6, 7)
    assert result.score == pytest.approx(108.75)
    # Markdown is stripped, list items are sentences, the link counts as its text:
    # "Die Steuer ist hier bequem zu zahlen." Die 1 (ie), Steu-er 2 (eu + e), ist 1, hier 1 (ie),
    #   be-quem 2 (qu is no vowel), zu 1, zah-len 2 = 10 syllables, 7 words
    # "Bauen Sie ein Haus." Bau-en 2 (au + e), Sie 1, ein 1, Haus 1 = 5 syllables, 4 words
    # ASL = 11/2 = 5.5, ASW = 15/11; FRE = 180 - 5.5 - 58.5 * 15/11 = 174.5 - 79.7727 = 94.7273
    result = flesch("- Die **Steuer** ist [hier](https://x.example) bequem zu zahlen.\n- Bauen Sie ein Haus.", "de")
    assert (result.sentences, result.words, result.syllables) == (2, 11, 15)
    assert result.score == pytest.approx(94.7273, abs=1e-3)
    # An abbreviation does not end a sentence; "z" and "B" are words of one syllable, "10" is no word:
    # words 7 + 3 = 10, syllables Brin-gen 2 + Sie 1 + z 1 + B 1 + den 1 + Pass 1 + mit 1 + Das 1 + kos-tet 2
    # + Eu-ro 2 = 13; FRE = 180 - 10/2 - 58.5 * 13/10 = 180 - 5 - 76.05 = 98.95
    result = flesch("Bringen Sie z. B. den Pass mit. Das kostet 10 Euro.", "de")
    assert (result.sentences, result.words, result.syllables) == (2, 10, 13)
    assert result.score == pytest.approx(98.95)


def test_english_readability_by_hand() -> None:
    # "The cat sat on the mat. It was happy.": 2 sentences, 9 words, syllables 8 x 1 + hap-py 2 = 10
    # FRE = 206.835 - 1.015 * 4.5 - 84.6 * 10/9 = 206.835 - 4.5675 - 94.0 = 108.2675
    result = flesch("The cat sat on the mat. It was happy.", "en")
    assert (result.sentences, result.words, result.syllables) == (2, 9, 10)
    assert result.score == pytest.approx(108.2675)
    assert flesch("", "en").score is None


@pytest.mark.parametrize(
    ("word", "syllables"),
    [("Steuer", 2), ("Bäume", 2), ("Quelle", 2), ("Familie", 3), ("Tee", 1), ("Haus", 1), ("Theater", 3),
     ("Abfall-Kalender", 5), ("Str", 1)],
)
def test_german_syllables(word: str, syllables: int) -> None:
    assert german_syllables(word) == syllables


@pytest.mark.parametrize(("word", "syllables"), [("make", 1), ("table", 2), ("happy", 2), ("the", 1), ("simple", 2)])
def test_english_syllables(word: str, syllables: int) -> None:
    assert english_syllables(word) == syllables


def test_sentences_of_markdown() -> None:
    text = "# Titel\nErster Satz am 1. Mai. Zweiter Satz!\n\n- Punkt eins\n- Punkt zwei: [Link](https://x.example)"
    assert sentences_of(text) == ["Titel", "Erster Satz am 1. Mai.", "Zweiter Satz!", "Punkt eins",
                                  "Punkt zwei: Link"]


def test_plain_and_tests_are_loaded_but_not_embedded(tmp_path: Path) -> None:
    entry = load_entry(BROKEN / "ok" / "alles-gut.md", BROKEN)
    assert entry.plain is not None and entry.plain.startswith("Sie brauchen einen neuen Ausweis.")
    assert entry.tests == ("Perso beantragen",)
    assert "Perso beantragen" not in entry.phrasings and "Perso" not in entry.passage
    bare = dataclasses.replace(entry, plain=None, tests=())
    assert bare.embedding_key() == entry.embedding_key()
    assert dataclasses.replace(entry, tests=("Ganz andere Frage",)).embedding_key() == entry.embedding_key()
    assert dataclasses.replace(entry, answer="Neu.").embedding_key() != entry.embedding_key()


def test_number_formats() -> None:
    assert (format_value(1480, "de"), format_value(1480, "en")) == ("1.480", "1,480")
    assert (format_value(27.44, "de"), format_value(27.44, "en")) == ("27,4", "27.4")


def test_every_message_has_both_languages_and_a_next_step() -> None:
    for code, texts in MESSAGES.items():
        for lang in ("de", "en"):
            message, hint = texts[lang]
            assert message.strip() and hint.strip(), (code, lang)
