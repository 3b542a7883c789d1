"""The kb adapter: trained on the kb's own vectors, it pulls each entry's phrasings together."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.kb import load_kb
from bot.retrieval.adapter import AdapterConfig, normalise_rows, train_adapter
from bot.retrieval.builder import build_index, index_version
from bot.retrieval.index import FaqIndex
from tests.conftest import HashEncoder


def _clusters(rng: np.random.Generator, entries: int, per_entry: int, dim: int,
              noise: float) -> tuple[np.ndarray, np.ndarray]:
    centres = normalise_rows(rng.normal(size=(entries, dim)))
    labels = np.repeat(np.arange(entries), per_entry)
    return normalise_rows(centres[labels] + noise * rng.normal(size=(len(labels), dim))), labels


def _nearest_centroid_accuracy(vectors: np.ndarray, labels: np.ndarray, queries: np.ndarray,
                               truth: np.ndarray) -> float:
    centroids = normalise_rows(np.stack([vectors[labels == i].mean(axis=0) for i in range(labels.max() + 1)]))
    return float(((queries @ centroids.T).argmax(axis=1) == truth).mean())


def _with_nuisance(rng: np.random.Generator, centres: np.ndarray, labels: np.ndarray, dim: int) -> np.ndarray:
    """Entries differ in 4 dimensions; 4 others vary a lot between phrasings and say nothing (style)."""
    x = np.zeros((len(labels), dim))
    x[:, :4] = centres[labels] + 0.3 * rng.normal(size=(len(labels), 4))
    x[:, 4:8] = 2.0 * rng.normal(size=(len(labels), 4))
    x[:, 8:] = 0.1 * rng.normal(size=(len(labels), dim - 8))
    return normalise_rows(x)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adapter_learns_to_ignore_what_does_not_tell_entries_apart(seed: int) -> None:
    rng = np.random.default_rng(seed)
    dim, entries = 16, 12
    centres = rng.normal(size=(entries, 4))
    labels, truth = np.repeat(np.arange(entries), 6), np.repeat(np.arange(entries), 10)
    train, queries = _with_nuisance(rng, centres, labels, dim), _with_nuisance(rng, centres, truth, dim)
    weight = train_adapter(train, labels, AdapterConfig(epochs=200, learning_rate=1e-2))
    assert weight is not None and weight.shape == (dim, dim)
    before = _nearest_centroid_accuracy(train, labels, queries, truth)
    after = _nearest_centroid_accuracy(normalise_rows(train @ weight), labels, normalise_rows(queries @ weight), truth)
    assert after > before + 0.2  # measured: about 0.3 -> 0.65 on held-out queries


def test_adapter_needs_two_entries_and_is_deterministic() -> None:
    rng = np.random.default_rng(1)
    vectors, labels = _clusters(rng, 3, 4, 8, 0.3)
    assert train_adapter(vectors, np.zeros(len(vectors), dtype=int)) is None
    first, second = train_adapter(vectors, labels), train_adapter(vectors, labels)
    assert first is not None and second is not None and np.array_equal(first, second)


@pytest.mark.parametrize("field, value", [("epochs", 0), ("learning_rate", 0.0), ("scale", 0.5), ("batch_size", 1),
                                         ("min_entries", 1)])
def test_adapter_config_names_the_bad_value(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        AdapterConfig(**{field: value})


def test_index_with_adapter_persists_and_changes_the_version(mini_kb: Path, encoder: HashEncoder,
                                                             tmp_path: Path) -> None:
    kb = load_kb(mini_kb)
    config = AdapterConfig(min_entries=2)
    assert build_index(kb, encoder).adapter is None  # the default needs 10 entries with paraphrases
    index = build_index(kb, encoder, adapter=config)
    assert index.adapter is not None and index.meta["adapter"] == config.key()
    plain = build_index(kb, encoder, adapter=None)
    assert plain.adapter is None and plain.version != index.version
    assert index.version == index_version(kb.content_hash, encoder.fingerprint, adapter=config)
    index.save(tmp_path / "idx")
    loaded = FaqIndex.load(tmp_path / "idx")
    query = "Sperrmüll anmelden"
    vector = encoder.encode_one(query)
    assert loaded.search(vector, text=query) == index.search(vector, text=query)
    assert loaded.search(vector, text=query)[0].faq_id == "sperrmuell"
    _, raw_best = index.search_with_best(vector, text=query)
    assert raw_best == pytest.approx(float((index.vectors @ vector).max()), abs=1e-6)  # routing: model's own space
    with pytest.raises(ValueError, match="adapter of shape"):
        FaqIndex(index.records, index.vectors, index.owners, index.answers, index.answer_owners, {},
                 adapter=np.eye(3))
