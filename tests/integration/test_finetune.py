"""Fine-tuning the real model on a kb: batches without false negatives, training lowers the loss, save/load."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from bot.embedding.finetune import FinetuneConfig, batches, training_pairs
from bot.embedding.st_encoder import Encoder
from bot.kb import load_kb

ROOT = Path(__file__).resolve().parents[2]


def test_batches_never_hold_two_pairs_of_one_entry() -> None:
    entries = load_kb(ROOT / "kb").entries
    rng = random.Random(0)
    pairs = training_pairs(entries, FinetuneConfig(), rng)
    assert all(a.startswith("query: ") and (p.startswith("query: ") or p.startswith("passage: ")) for a, p, _ in pairs)
    planned = batches(pairs, 16, rng)
    assert all(len({owner for _, _, owner in batch}) == len(batch) for batch in planned)
    assert sum(len(b) for b in planned) >= len(pairs) - 1  # at most a lone leftover is dropped


@pytest.mark.parametrize("field, value", [("epochs", 0), ("batch_size", 2), ("learning_rate", 0.5)])
def test_finetune_config_names_the_bad_value(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        FinetuneConfig(**{field: value})


@pytest.mark.slow
def test_fine_tuning_on_a_kb_lowers_the_loss_and_saves_a_loadable_model(real_model: Path, mini_kb: Path,
                                                                        tmp_path: Path) -> None:
    entries = load_kb(mini_kb).entries
    encoder = Encoder(str(real_model))
    base_fingerprint = encoder.fingerprint
    probe = ["Wie melde ich Sperrmüll an?", "Hund anmelden Steuer"]
    before = encoder.encode(probe)
    summary = encoder.fine_tune(entries, FinetuneConfig(epochs=3, batch_size=4, learning_rate=5e-5))
    assert summary["steps"] > 0
    assert summary["loss_last"] < summary["loss_first"]  # type: ignore[operator]
    assert encoder.fingerprint != base_fingerprint  # embeddings of the two models are never mixed in a cache
    after = encoder.encode(probe)
    assert not np.allclose(before, after, atol=1e-4)
    saved = encoder.save(tmp_path / "tuned", summary)
    reloaded = Encoder(str(saved))
    assert reloaded.q4_embeddings
    assert reloaded.fingerprint != base_fingerprint
    assert np.allclose(reloaded.encode(probe), after, atol=1e-4)


@pytest.mark.slow
def test_kb_build_with_fine_tuning_publishes_an_index_that_names_its_model(real_model: Path, mini_kb: Path,
                                                                          tmp_path: Path) -> None:
    from bot.embedding.encoder import shared_encoder
    from bot.embedding.tuned import kb_tuner
    from bot.publish.build import build_and_publish
    from bot.retrieval.searcher import FaqSearcher
    from bot.retrieval.store import IndexStore

    base = shared_encoder(str(real_model), 1)
    tuner = kb_tuner(base, 1, tmp_path / "tuned")
    assert kb_tuner(base, 0, tmp_path / "tuned") is None
    first = build_and_publish(mini_kb, tmp_path / "index", tmp_path / "cache", base, tune_for_kb=tuner)
    tuned_dirs = list((tmp_path / "tuned").glob("tuned-*"))
    assert len(tuned_dirs) == 1
    store = IndexStore(tmp_path / "index")
    assert store.current().meta["query_model"] == str(tuned_dirs[0])
    again = build_and_publish(mini_kb, tmp_path / "index", tmp_path / "cache", base, tune_for_kb=tuner)
    assert again.unchanged and again.version == first.version  # same kb: the tuned model is reused, not retrained
    searcher = FaqSearcher(base, store=store, load_encoder=lambda model: shared_encoder(model, 1))
    result = searcher.search("Wie melde ich Sperrmüll an?")
    assert result.candidates[0].faq_id == "sperrmuell"
    assert getattr(result.encoder, "name", None) == str(tuned_dirs[0])


def test_fine_tuning_needs_a_sentence_transformers_encoder(tmp_path: Path) -> None:
    from bot.embedding.tuned import kb_tuner
    from tests.conftest import HashEncoder

    assert kb_tuner(HashEncoder(), 0, tmp_path) is None  # off: any encoder will do
    with pytest.raises(TypeError, match="HashEncoder"):
        kb_tuner(HashEncoder(), 1, tmp_path)
