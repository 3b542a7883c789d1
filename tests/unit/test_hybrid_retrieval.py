"""Keyword scoring (stems, compound parts), answer passages, and their place in the index score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.kb import load_kb
from bot.kb.chunking import passages
from bot.retrieval.builder import build_index
from bot.retrieval.index import FaqIndex
from bot.retrieval.lexical import LexicalScorer
from bot.retrieval.stemming import cistem, english_stem, split_compound, terms
from tests.conftest import HashEncoder


def test_cistem_maps_inflected_german_forms_to_one_stem() -> None:
    assert cistem("beantrage") == cistem("beantragen") == cistem("beantragt")
    assert cistem("wohnungen") == cistem("wohnung")
    assert cistem("müll") == cistem("muell".replace("ue", "u"))
    assert cistem("personalausweis") != cistem("reisepass")


def test_english_stem_strips_plural_and_verb_endings() -> None:
    assert english_stem("registering") == english_stem("registered") == "register"
    assert english_stem("bodies") == "body"
    assert english_stem("address") == "address"


def test_compound_is_split_into_known_words_with_linking_letters() -> None:
    vocabulary = {"personalausweis", "antrag", "hund", "steuer", "wohnung", "geber", "bestätigung"}
    assert split_compound("personalausweisantrag", vocabulary) == ["personalausweis", "antrag"]
    assert split_compound("hundesteuer", vocabulary) == ["hund", "steuer"]
    assert split_compound("wohnungsgeberbestätigung", vocabulary) == ["wohnung", "geber", "bestätigung"]
    assert split_compound("angelschein", vocabulary) == []
    assert "steu" in terms("Hundesteuer", "de", vocabulary)  # the stem of the head is an index term


def test_lexical_scores_cover_the_query_and_unknown_words_lower_them() -> None:
    scorer = LexicalScorer(["Hundesteuer anmelden. Die Steuer für Hunde zahlen Sie jährlich.",
                            "Personalausweis beantragen im Bürgerbüro", "Register your address"],
                           ["de", "de", "en"])
    covered = scorer.scores("Wie melde ich meinen Hund zur Steuer an?", "de")
    assert covered.argmax() == 0 and 0 < covered[0] <= 1
    assert covered[1] == 0
    partly = scorer.scores("Hund Angelschein Fischereiabgabe", "de")
    assert 0 < partly[0] < covered[0]  # words the kb never uses count against every entry
    assert scorer.scores("Hallo, bitte", "de").max() == 0  # stop words only: no evidence
    known, unknown = scorer.explain("Hundesteuer Angelschein", "de")
    assert "angelschei" in unknown and known


def test_lexical_scorer_rejects_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="2 documents but 1 languages"):
        LexicalScorer(["a", "b"], ["de"])


def test_short_answers_are_one_passage_long_ones_are_split_with_their_title() -> None:
    assert passages("Titel", "Kurze Antwort.") == ["Titel\nKurze Antwort."]
    long_answer = "\n\n".join(f"Absatz {i}. " + "Wort " * 60 for i in range(6))
    chunks = passages("Titel", long_answer, max_chars=400)
    assert len(chunks) > 1
    assert all(c.startswith("Titel\n") and len(c) <= 400 + len("Titel\n") for c in chunks)
    assert " ".join(c.removeprefix("Titel\n") for c in chunks).split() == long_answer.split()  # nothing lost
    with pytest.raises(ValueError, match="max_chars"):
        passages("T", "A", max_chars=10)


def test_a_question_about_the_end_of_a_long_answer_finds_it(mini_kb: Path, encoder: HashEncoder) -> None:
    entry = mini_kb / "abfall" / "sperrmuell.md"
    text = entry.read_text(encoding="utf-8")
    filler = "\n\n".join("Allgemeine Hinweise zu Terminen und Gebühren der Abfallwirtschaft. " * 4 for _ in range(8))
    entry.write_text(text.rstrip() + "\n\n" + filler + "\n\nKühlschränke holt der Wertstoffhof kostenlos.\n",
                     encoding="utf-8")
    index = build_index(load_kb(mini_kb), encoder)
    assert index.meta["passages"] > index.meta["entries"]
    query = "kühlschränke wertstoffhof kostenlos"
    top = index.search(encoder.encode_one(query), k=2, text=query)
    assert top[0].faq_id == "sperrmuell"


def test_keyword_weight_changes_scores_and_persists(mini_kb: Path, encoder: HashEncoder, tmp_path: Path) -> None:
    index = build_index(load_kb(mini_kb), encoder, lexical_weight=0.5)
    query = "Hundesteuer"
    vector = encoder.encode_one(query)
    with_words = index.search(vector, k=1, text=query)[0]
    without = index.reweighted(index.answer_weight, 0.0).search(vector, k=1, text=query)[0]
    assert with_words.faq_id == without.faq_id == "hundesteuer-anmelden"
    assert with_words.score != without.score
    index.save(tmp_path / "idx")
    loaded = FaqIndex.load(tmp_path / "idx")
    assert loaded.lexical_weight == 0.5
    assert loaded.search(vector, k=1, text=query) == index.search(vector, k=1, text=query)
    assert np.array_equal(loaded.answer_owners, index.answer_owners)
