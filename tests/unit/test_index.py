"""The retrieval index: build, search, incremental rebuild, persistence, atomic hot swap."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.kb import KbValidationError, load_kb
from bot.publish.build import build_and_publish
from bot.retrieval.builder import build_index
from bot.retrieval.cache import EmbeddingCache
from bot.retrieval.index import FaqIndex
from bot.retrieval.searcher import FaqSearcher
from bot.retrieval.store import IndexStore
from tests.conftest import HashEncoder


def test_build_and_search_ranks_the_matching_entry_first(mini_kb: Path, encoder: HashEncoder) -> None:
    index = build_index(load_kb(mini_kb), encoder)
    assert index.meta["entries"] == 4 and index.meta["embedded"] == 4
    top = index.search(encoder.encode_one("Sperrmüll Abholung anmelden"), k=3, lang="de")
    assert top[0].faq_id == "sperrmuell"
    assert top[0].score > top[1].score
    assert top[0].matched in ("Wie melde ich Sperrmüll an?", "Abholung von Sperrmüll")
    assert all(c.lang == "de" for c in top)


def test_language_filter_and_fallback(mini_kb: Path, encoder: HashEncoder) -> None:
    index = build_index(load_kb(mini_kb), encoder)
    query = encoder.encode_one("register address")
    assert [c.faq_id for c in index.search(query, k=5, lang="en")] == ["en-register-address"]
    assert len(index.search(query, k=5, lang="fr")) == 4  # no entries in that language: search all


def test_searcher_guesses_language_from_kb_vocabulary(mini_kb: Path, encoder: HashEncoder) -> None:
    searcher = FaqSearcher(encoder, index=build_index(load_kb(mini_kb), encoder))
    assert searcher.search("register flat").lang == "en"
    assert searcher.search("Sperrmüll").lang == "de"
    assert searcher.search("xyz", lang_hint="en-GB").lang == "en"


def test_incremental_rebuild_embeds_only_the_changed_entry(mini_kb: Path, tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache", HashEncoder.fingerprint)
    first = HashEncoder()
    build_index(load_kb(mini_kb), first, cache)
    path = mini_kb / "abfall" / "sperrmuell.md"
    path.write_text(path.read_text().replace("zweimal im Jahr", "dreimal im Jahr"))
    second = HashEncoder()
    index = build_index(load_kb(mini_kb), second, cache)
    assert index.meta["embedded"] == 1
    assert second.calls == 3 + 1  # the entry's three phrasings and its answer
    assert "dreimal" in index.entry("sperrmuell").answer  # type: ignore[union-attr]


def test_save_and_load_give_the_same_ranking(mini_kb: Path, encoder: HashEncoder, tmp_path: Path) -> None:
    index = build_index(load_kb(mini_kb), encoder)
    index.save(tmp_path / "idx")
    loaded = FaqIndex.load(tmp_path / "idx")
    query = encoder.encode_one("Hund Steuer")
    assert index.search(query) == loaded.search(query)
    assert loaded.version == index.version


def test_load_rejects_other_format_versions(mini_kb: Path, encoder: HashEncoder, tmp_path: Path) -> None:
    build_index(load_kb(mini_kb), encoder).save(tmp_path / "idx")
    meta = json.loads((tmp_path / "idx" / "entries.json").read_text())
    meta["format"] = 99
    (tmp_path / "idx" / "entries.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format 99"):
        FaqIndex.load(tmp_path / "idx")


def test_index_validates_its_arrays(encoder: HashEncoder) -> None:
    with pytest.raises(ValueError, match="owner rows"):
        FaqIndex([], np.zeros((2, 4)), np.zeros(1), np.zeros((0, 4)), np.zeros(0), {})
    with pytest.raises(ValueError, match="answer_weight"):
        FaqIndex([], np.zeros((0, 4)), np.zeros(0), np.zeros((0, 4)), np.zeros(0), {}, answer_weight=-1)


def test_store_hot_swaps_to_a_new_version(mini_kb: Path, encoder: HashEncoder, tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    with pytest.raises(FileNotFoundError, match="auskunft kb build"):
        store.current()
    first = build_and_publish(mini_kb, store.root, tmp_path / "cache", encoder)
    assert store.current().version == first.version
    reader = IndexStore(store.root)  # another process reading the same directory
    assert reader.current().version == first.version
    path = mini_kb / "steuern" / "hundesteuer-anmelden.md"
    path.write_text(path.read_text().replace("zwei Wochen", "einem Monat"))
    second = build_and_publish(mini_kb, store.root, tmp_path / "cache", encoder)
    assert second.version != first.version and second.embedded == 1
    assert reader.current().version == second.version
    assert "einem Monat" in reader.current().entry("hundesteuer-anmelden").answer  # type: ignore[union-attr]


def test_broken_kb_keeps_the_last_good_index(mini_kb: Path, encoder: HashEncoder, tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    good = build_and_publish(mini_kb, store.root, tmp_path / "cache", encoder)
    (mini_kb / "abfall" / "kaputt.md").write_text("---\nid: kaputt\nlang: xx\n---\n")
    with pytest.raises(KbValidationError):
        build_and_publish(mini_kb, store.root, tmp_path / "cache", encoder)
    assert store.live_version() == good.version
    assert IndexStore(store.root).current().version == good.version


def test_unchanged_kb_is_not_rebuilt(mini_kb: Path, encoder: HashEncoder, tmp_path: Path) -> None:
    build_and_publish(mini_kb, tmp_path / "index", tmp_path / "cache", encoder)
    again = build_and_publish(mini_kb, tmp_path / "index", tmp_path / "cache", encoder)
    assert again.unchanged


def test_unreadable_new_version_keeps_serving_the_loaded_one(mini_kb: Path, encoder: HashEncoder,
                                                             tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    build_and_publish(mini_kb, store.root, tmp_path / "cache", encoder)
    served = store.current()
    (store.root / "versions" / "garbage").mkdir()
    (store.root / "CURRENT").write_text("garbage\n")
    assert store.current() is served


class NamedEncoder(HashEncoder):
    """Stands for a model fine-tuned on the kb: another space, another fingerprint, a name to load it by."""

    fingerprint = "tuned-on-kb"
    name = "/models/tuned-abc"

    def encode(self, texts, batch_size=32, progress=False, passage=False):  # type: ignore[no-untyped-def]
        return super().encode([t[::-1] for t in texts], batch_size, progress, passage)  # a different space


def test_index_built_with_a_kb_tuned_model_is_searched_with_that_model(mini_kb: Path, encoder: HashEncoder,
                                                                       tmp_path: Path) -> None:
    tuned = NamedEncoder()
    report = build_and_publish(mini_kb, tmp_path / "index", tmp_path / "cache", encoder,
                               tune_for_kb=lambda kb: tuned)
    store = IndexStore(tmp_path / "index")
    assert store.current().meta["query_model"] == tuned.name
    assert report.version == store.live_version()
    with pytest.raises(ValueError, match="load_encoder"):
        FaqSearcher(encoder, store=store).search("Sperrmüll")
    loaded: list = []
    searcher = FaqSearcher(encoder, store=store, load_encoder=lambda name: loaded.append(name) or tuned)
    result = searcher.search("Sperrmüll anmelden")
    assert loaded == [tuned.name] and result.encoder is tuned
    assert result.candidates[0].faq_id == "sperrmuell"
    assert tuned.calls > 0
