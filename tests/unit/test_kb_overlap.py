"""The editors' overlap report: near-duplicates, misrouted phrasings, decisions, rendering (fast, HashEncoder)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import List, Optional

import numpy as np
import pytest

from bot.decision import ANSWER, DecisionConfig
from bot.editor.overlap import OverlapReport, PhrasingCheck, find_overlaps, render_report, run_overlap
from bot.kb import load_kb
from bot.retrieval.adapter import AdapterConfig
from bot.retrieval.builder import build_index
from tests.conftest import HashEncoder

CONFIG = DecisionConfig()
ANSWER_TEXT = "Sperrmüll melden Sie online oder telefonisch an. Die Abholung ist zweimal im Jahr kostenlos."


def write_entry(kb: Path, folder: str, faq_id: str, title: str, questions: List[str], answer: str,
                lang: str = "de", owner: str = "Abfallwirtschaft") -> Path:
    path = kb / folder / f"{faq_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    items = "".join(f"  - {q}\n" for q in questions)
    path.write_text(f"---\nid: {faq_id}\ntitle: {title}\n" + (f"questions:\n{items}" if questions else "")
                    + f"lang: {lang}\ntags: [test]\nsource: https://musterstadt.example/{faq_id}\nowner: {owner}\n"
                    f"updated: 2026-11-01\n---\n{answer}\n", encoding="utf-8")
    return path


def report_for(kb: Path, encoder: HashEncoder) -> OverlapReport:
    loaded = load_kb(kb)
    return find_overlaps(build_index(loaded, encoder), encoder, CONFIG, loaded)


def plant_duplicate(kb: Path) -> None:
    write_entry(kb, "abfall", "sperrmuell-abholung", "Wie melde ich den Sperrmüll an?",
                ["Abholung von dem Sperrmüll", "Alte Möbel abholen lassen"], ANSWER_TEXT)


def plant_misrouted(kb: Path) -> None:
    path = kb / "steuern" / "hundesteuer-anmelden.md"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "  - Hund anmelden Steuer\n", "  - Hund anmelden Steuer\n  - Termin für die Abholung von Sperrmüll\n"),
        encoding="utf-8")


def find_check(report: OverlapReport, phrasing: str) -> PhrasingCheck:
    return next(c for c in report.checks if c.phrasing == phrasing)


def test_the_mini_kb_as_it_is_has_no_near_duplicates(mini_kb: Path, encoder: HashEncoder) -> None:
    report = report_for(mini_kb, encoder)
    assert report.pairs == []
    # bag-of-words vectors: without itself, "Wie melde ich Sperrmüll an?" shares more words with the dog tax title
    assert [(c.faq_id, c.phrasing, c.top_id, c.action) for c in report.misrouted] == [
        ("sperrmuell", "Wie melde ich Sperrmüll an?", "hundesteuer-anmelden", "clarify")]
    assert report.phrasings == 10 and len(report.checks) == 10 and report.unchecked == []
    assert set(report.entries) == {"hundesteuer-anmelden", "sperrmuell", "personalausweis", "en-register-address"}
    assert report.entries["sperrmuell"].path == "abfall/sperrmuell.md"


def test_planted_near_duplicate_entries_are_reported_as_a_pair(mini_kb: Path, encoder: HashEncoder) -> None:
    plant_duplicate(mini_kb)
    report = report_for(mini_kb, encoder)
    assert [{p.a, p.b} for p in report.pairs] == [{"sperrmuell", "sperrmuell-abholung"}]
    pair = report.pairs[0]
    assert pair.ambiguous_a >= 1 and pair.ambiguous_b >= 1 and pair.total_a == pair.total_b == 3
    assert pair.own_score - pair.other_score < CONFIG.min_margin
    assert pair.other_score >= CONFIG.clarify_threshold
    phrasings = {"Wie melde ich Sperrmüll an?", "Abholung von Sperrmüll", "Alte Möbel abholen lassen",
                 "Wie melde ich den Sperrmüll an?", "Abholung von dem Sperrmüll"}
    assert pair.phrasing in phrasings and pair.matched in phrasings


def test_a_phrasing_in_the_wrong_entry_is_reported_as_misrouted(mini_kb: Path, encoder: HashEncoder) -> None:
    before = {c.phrasing for c in report_for(mini_kb, encoder).misrouted}
    plant_misrouted(mini_kb)
    report = report_for(mini_kb, encoder)
    planted = [c for c in report.misrouted if c.phrasing not in before]
    assert [(c.faq_id, c.phrasing, c.top_id) for c in planted] == [
        ("hundesteuer-anmelden", "Termin für die Abholung von Sperrmüll", "sperrmuell")]
    # bag-of-words vectors weigh the verbatim phrasing little: even asked word for word it loses to the right entry
    assert [(p.a, p.b, p.ambiguous_a, p.ambiguous_b) for p in report.pairs] == [
        ("hundesteuer-anmelden", "sperrmuell", 1, 0)]
    assert "Termin für die Abholung von Sperrmüll" in render_report(report).split("\n3. ")[0].split("\n2. ")[1]


def test_held_out_phrasings_do_not_find_themselves(mini_kb: Path, encoder: HashEncoder) -> None:
    loaded = load_kb(mini_kb)
    index = build_index(loaded, encoder)
    query = encoder.encode_one("Abholung von Sperrmüll")
    before = index.search(query, k=4, lang="de", text="Abholung von Sperrmüll")
    report = find_overlaps(index, encoder, CONFIG, loaded)
    check = find_check(report, "Abholung von Sperrmüll")
    assert check.top_id == "sperrmuell" and before[0].faq_id == "sperrmuell"
    assert check.own_score is not None and check.own_score < before[0].score - 0.05
    assert index.search(query, k=4, lang="de", text="Abholung von Sperrmüll") == before  # the index is unchanged


def test_the_kb_adapter_is_retrained_without_the_held_out_phrasings(tmp_path: Path, encoder: HashEncoder,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.editor.overlap as overlap

    kb = tmp_path / "kb"
    topics = ["Sperrmüll", "Hundesteuer", "Reisepass", "Wohngeld", "Biotonne", "Führerschein", "Fundbüro",
              "Baumfällung", "Einbürgerung", "Briefwahl", "Gewerbe", "Meldebescheinigung"]
    for number, topic in enumerate(topics):
        write_entry(kb, "themen", f"thema-{number}", f"Wie geht das mit {topic}?",
                    [f"{topic} beantragen", f"Was kostet {topic}?", f"{topic} Termin"], f"Alles zu {topic} hier.")
    loaded = load_kb(kb)
    quick = AdapterConfig(epochs=2)  # the training itself is tested in test_adapter.py
    index = build_index(loaded, encoder, adapter=quick)
    assert index.adapter is not None
    calls: List[int] = []
    original = overlap.train_kb_adapter

    def spy(vectors: np.ndarray, owners: np.ndarray, config: AdapterConfig) -> Optional[np.ndarray]:
        calls.append(len(vectors))
        assert config == AdapterConfig()  # the settings 'auskunft kb build' uses
        return original(vectors, owners, quick)

    monkeypatch.setattr(overlap, "train_kb_adapter", spy)
    query = encoder.encode_one("Was kostet Wohngeld?")
    before = index.search(query, k=3, lang="de", text="Was kostet Wohngeld?")
    report = find_overlaps(index, encoder, CONFIG, loaded)
    assert len(calls) == overlap.FOLDS and sum(len(index.vectors) - n for n in calls) == len(index.vectors)
    assert len(report.checks) == 48 and report.pairs == []
    assert index.search(query, k=3, lang="de", text="Was kostet Wohngeld?") == before


def test_decisions_use_the_bots_thresholds(mini_kb: Path, encoder: HashEncoder) -> None:
    report_default = report_for(mini_kb, encoder)
    assert any(c.action == ANSWER for c in report_default.checks)
    loaded = load_kb(mini_kb)
    strict = DecisionConfig(answer_threshold=0.99, clarify_threshold=0.98)
    report = find_overlaps(build_index(loaded, encoder), encoder, strict, loaded)
    assert all(c.action != ANSWER for c in report.checks)
    assert len(report.not_answered) + len(report.misrouted) == len(report.checks)


def test_entries_in_different_languages_are_never_compared(mini_kb: Path, encoder: HashEncoder) -> None:
    before = report_for(mini_kb, encoder)
    write_entry(mini_kb, "buergeramt", "adresse-registrieren", "How do I register my address?",
                ["register new flat address"], "Register your address at the **Bürgeramt**.", owner="Bürgeramt")
    report = report_for(mini_kb, encoder)  # a German entry with the English entry's words
    assert report.pairs == []
    assert [(c.phrasing, c.top_id) for c in report.misrouted] == [(c.phrasing, c.top_id) for c in before.misrouted]


def test_an_entry_with_only_a_title_is_listed_as_unchecked(mini_kb: Path, encoder: HashEncoder) -> None:
    write_entry(mini_kb, "abfall", "biotonne", "Was darf in die Biotonne?", [], "Küchenabfälle und Gartenabfälle.")
    report = report_for(mini_kb, encoder)
    assert report.unchecked == ["biotonne"] and report.phrasings == 11 and len(report.checks) == 10
    assert "biotonne" in render_report(report)


def test_report_renders_in_german_and_english(mini_kb: Path, encoder: HashEncoder) -> None:
    plant_duplicate(mini_kb)
    plant_misrouted(mini_kb)
    report = report_for(mini_kb, encoder)
    german, english = render_report(report), render_report(report, lang="en")
    for text in (german, english):
        assert "[sperrmuell]" in text and "[sperrmuell-abholung]" in text and "[hundesteuer-anmelden]" in text
        assert "abfall/sperrmuell-abholung.md" in text and "steuern/hundesteuer-anmelden.md" in text
        assert "Abfallwirtschaft" in text and "Steueramt" in text and "Wie melde ich Sperrmüll an?" in text
        assert "Termin für die Abholung von Sperrmüll" in text
    pairs, misrouted = len(report.pairs), len(report.misrouted)
    assert pairs == 3 and f"Fast gleiche Einträge: {pairs} Paare" in german  # the duplicate, the misrouted twice
    assert f"beim falschen Eintrag: {misrouted}" in german and f"landing on another entry: {misrouted}" in english
    assert ("Fragen schärfer formulieren, Einträge zusammenlegen, oder die Frage dem richtigen Eintrag zuordnen"
            in german)
    assert "Near-duplicate entries: 3 pairs" in english and "merge entries" in english
    assert "Einträge" not in english and "entries" not in german.lower().replace("einträge", "")
    with pytest.raises(ValueError, match="lang"):
        render_report(report, lang="fr")


def test_a_clean_report_says_so(tmp_path: Path, encoder: HashEncoder) -> None:
    kb = tmp_path / "kb"
    write_entry(kb, "abfall", "sperrmuell", "Sperrmüll anmelden", ["Sperrmüll Abholung", "Sperrmüll Termin"],
                ANSWER_TEXT)
    write_entry(kb, "steuern", "hundesteuer", "Hundesteuer zahlen", ["Hundesteuer zahlen wann", "Hundesteuer Betrag"],
                "Hundesteuer zahlen Sie jährlich, der Betrag ist 100 Euro.", owner="Steueramt")
    text = render_report(report_for(kb, encoder), lang="en")
    assert text.count("   none") == 3 and "0 pairs" in text and "another entry: 0" in text


def test_run_overlap_builds_in_a_temporary_place(isolated_settings: Path, mini_kb: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.embedding.encoder

    monkeypatch.setattr(bot.embedding.encoder, "shared_encoder", lambda model, threads=1, **_: HashEncoder())
    plant_duplicate(mini_kb)
    out = io.StringIO()
    assert run_overlap(mini_kb, out=out) == 0
    assert "Fast gleiche Einträge: 1 Paare" in out.getvalue() and "[sperrmuell-abholung]" in out.getvalue()
    assert not (isolated_settings / "index").exists()  # the live index is not touched
    english = io.StringIO()
    assert run_overlap(mini_kb, lang="en", out=english) == 0 and "Near-duplicate entries: 1 pairs" in english.getvalue()
    (mini_kb / "abfall" / "broken.md").write_text("no front matter", encoding="utf-8")
    assert run_overlap(mini_kb, out=io.StringIO()) == 1
