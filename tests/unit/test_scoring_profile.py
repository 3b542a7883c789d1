"""The kb-shape profile (bot/retrieval/profile.py) and the titles-only adapter (bot/retrieval/title_adapter.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.kb.loader import load_kb
from bot.retrieval.adapter import normalise_rows
from bot.retrieval.builder import build_index
from bot.retrieval.profile import PARAPHRASED, TITLES_ONLY, ScoringProfile, choose_profile, paraphrased_share
from bot.retrieval.title_adapter import TitleAdapterConfig, train_title_adapter

TOPICS = ["Hundesteuer", "Sperrmüll", "Reisepass", "Wohngeld", "Kitaplatz", "Baugenehmigung", "Führerschein",
          "Gewerbeanmeldung", "Briefwahl", "Parkausweis", "Eheschließung", "Biotonne"]


def test_choose_profile_by_share_of_entries_with_questions() -> None:
    assert choose_profile([3, 5, 2, 4]) is PARAPHRASED
    assert choose_profile([1, 1, 1, 2]) is TITLES_ONLY
    assert choose_profile([1, 2]) is PARAPHRASED  # half of the entries: paraphrased
    assert choose_profile([]) is PARAPHRASED
    assert paraphrased_share([1, 1, 3]) == pytest.approx(1 / 3)
    assert TITLES_ONLY.answer_weight > PARAPHRASED.answer_weight and TITLES_ONLY.title_adapter


def test_invalid_values_are_named() -> None:
    with pytest.raises(ValueError, match="min_share must be between 0 and 1, got 1.5"):
        choose_profile([1], min_share=1.5)
    with pytest.raises(ValueError, match="got a count of 0"):
        choose_profile([1, 0])
    with pytest.raises(ValueError, match="answer_weight of profile 'x' must be >= 0, got -1"):
        ScoringProfile("x", -1, 0.25)
    with pytest.raises(ValueError, match="regularisation must be between 0 and 1000, got -0.5"):
        TitleAdapterConfig(regularisation=-0.5)
    with pytest.raises(ValueError, match="3 passage vectors but 2 owner rows"):
        train_title_adapter(np.eye(4, dtype=np.float32), np.eye(3, 4, dtype=np.float32), np.zeros(2, dtype=np.int64))


def _synthetic(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Titles that share little with their passages; questions that look like passages, not titles."""
    rng = np.random.default_rng(seed)
    entries, dim = 24, 32
    titles = normalise_rows(rng.normal(size=(entries, dim)))
    content = rng.normal(size=(entries, dim))
    owners = np.repeat(np.arange(entries), 4)
    passages = normalise_rows(0.4 * titles[owners] + content[owners] + 0.6 * rng.normal(size=(len(owners), dim)))
    questions = normalise_rows(content[owners] + 0.6 * rng.normal(size=(len(owners), dim)))
    return titles, passages, owners, questions, owners.copy()


def _accuracy(titles: np.ndarray, questions: np.ndarray, labels: np.ndarray, weight: np.ndarray) -> float:
    return float(np.mean(np.argmax(normalise_rows(questions @ weight) @ normalise_rows(titles @ weight).T, axis=1)
                         == labels))


def test_title_adapter_brings_unseen_questions_nearer_their_title() -> None:
    titles, passages, owners, questions, labels = _synthetic(1)
    weight = train_title_adapter(titles, passages, owners, TitleAdapterConfig(regularisation=0.1, epochs=40))
    assert weight is not None and weight.shape == (32, 32) and weight.dtype == np.float32
    before = _accuracy(titles, questions, labels, np.eye(32, dtype=np.float32))
    assert _accuracy(titles, questions, labels, weight) > before + 0.1


def test_regularisation_keeps_the_map_near_the_identity_and_small_kbs_get_none() -> None:
    titles, passages, owners, _, _ = _synthetic(2)
    loose = train_title_adapter(titles, passages, owners, TitleAdapterConfig(regularisation=0.0))
    tight = train_title_adapter(titles, passages, owners, TitleAdapterConfig(regularisation=100.0))
    assert loose is not None and tight is not None
    identity = np.eye(32)
    assert np.linalg.norm(tight - identity) < 0.5 * np.linalg.norm(loose - identity)
    assert train_title_adapter(titles[:5], passages[:20], owners[:20]) is None  # below min_entries


def _titles_only_kb(root: Path, count: int) -> Path:
    root.mkdir(parents=True)
    for i, topic in enumerate(TOPICS[:count]):
        (root / f"e{i}.md").write_text(
            f"---\nid: e{i}\ntitle: Wie beantrage ich {topic}?\nlang: de\ntags: [test]\n"
            f"source: https://example.org/e{i}\nowner: Amt\nupdated: 2026-01-01\n---\n"
            f"Für {topic} brauchen Sie das Formular {i} und einen Termin im Bürgerbüro.\n\n"
            f"Die Gebühr für {topic} beträgt {10 + i} Euro.\n", encoding="utf-8")
    return root


def test_builder_applies_the_titles_only_profile(tmp_path: Path, encoder: object, mini_kb: Path) -> None:
    titles_only = build_index(load_kb(_titles_only_kb(tmp_path / "t", len(TOPICS))), encoder)  # type: ignore[arg-type]
    assert titles_only.meta["profile"] == "titles-only"
    assert titles_only.answer_weight == TITLES_ONLY.answer_weight
    assert titles_only.adapter is not None and str(titles_only.meta["adapter"]).startswith("titles-")
    assert titles_only.search(encoder.encode_one("Gebühr Reisepass"), k=1)[0].faq_id == "e2"  # type: ignore[attr-defined]

    paraphrased = build_index(load_kb(mini_kb), encoder)  # type: ignore[arg-type]
    assert paraphrased.meta["profile"] == "paraphrased"
    assert paraphrased.answer_weight == PARAPHRASED.answer_weight

    explicit = build_index(load_kb(tmp_path / "t"), encoder, answer_weight=2.0, adapter=None)  # type: ignore[arg-type]
    assert explicit.answer_weight == 2.0 and explicit.adapter is None
    assert explicit.version != titles_only.version


def test_few_entries_keep_the_weights_but_train_no_adapter(tmp_path: Path, encoder: object) -> None:
    index = build_index(load_kb(_titles_only_kb(tmp_path / "t", 4)), encoder)  # type: ignore[arg-type]
    assert index.meta["profile"] == "titles-only" and index.adapter is None and index.meta["adapter"] is None


def test_published_index_keeps_the_profile_and_a_rebuild_is_recognised_as_unchanged(tmp_path: Path,
                                                                                     encoder: object) -> None:
    from bot.publish.build import build_and_publish
    from bot.retrieval.store import IndexStore

    kb = _titles_only_kb(tmp_path / "t", len(TOPICS))
    first = build_and_publish(kb, tmp_path / "index", tmp_path / "cache", encoder)  # type: ignore[arg-type]
    live = IndexStore(tmp_path / "index").current()
    assert live.version == first.version and live.meta["profile"] == "titles-only"
    assert live.answer_weight == TITLES_ONLY.answer_weight and live.adapter is not None
    again = build_and_publish(kb, tmp_path / "index", tmp_path / "cache", encoder)  # type: ignore[arg-type]
    assert again.unchanged and again.version == first.version


def test_a_titles_only_kb_keeps_its_titles_adapter_when_a_few_entries_gain_questions(tmp_path: Path,
                                                                                      encoder: object) -> None:
    root = tmp_path / "kb"
    root.mkdir()
    for i in range(24):  # 10 of 24 entries with questions: enough for a paraphrase adapter, below half
        questions = f"questions:\n  - Frage {i} zu Thema{i}\n  - Thema{i} erledigen\n" if i < 10 else ""
        (root / f"e{i}.md").write_text(
            f"---\nid: e{i}\ntitle: Wie geht Thema{i} Antrag{i}?\n{questions}lang: de\ntags: [test]\n"
            f"source: https://example.org/e{i}\nowner: Amt\nupdated: 2026-01-01\n---\n"
            f"Für Thema{i} brauchen Sie Formular{i} und einen Termin.\n", encoding="utf-8")
    index = build_index(load_kb(root), encoder)  # type: ignore[arg-type]
    assert index.meta["profile"] == "titles-only"
    assert str(index.meta["adapter"]).startswith("titles-")
