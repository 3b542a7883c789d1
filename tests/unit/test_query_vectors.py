"""Query vectors embedded in micro-batches by the web service and handed to Rasa, signed."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import List, Sequence

import numpy as np
import pytest

from bot.embedding.micro_batch import MicroBatcher
from bot.embedding.sealed_vector import seal, unseal
from bot.kb import load_kb
from bot.retrieval.builder import build_index
from bot.retrieval.searcher import FaqSearcher
from tests.conftest import HashEncoder


class CountingEncoder:
    """Deterministic vectors from character counts; records every call."""

    name = "counting"
    fingerprint = "counting-v1"
    dim = 8
    threads = 1

    def __init__(self) -> None:
        self.calls: List[List[str]] = []
        self.threads_seen: set = set()

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False,
               passage: bool = False) -> np.ndarray:
        self.calls.append(list(texts))
        self.threads_seen.add(threading.current_thread().name)
        rows = np.array([[len(t) + i for i in range(self.dim)] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def test_concurrent_messages_share_one_pass_and_each_gets_its_own_vector() -> None:
    encoder = CountingEncoder()

    async def scenario() -> List[np.ndarray]:
        batcher = MicroBatcher(encoder, window_ms=50, max_batch=32)
        texts = [f"Frage {'x' * i}" for i in range(10)]
        vectors = await asyncio.gather(*(batcher.embed(t) for t in texts))
        await batcher.close()
        return [np.asarray(v) for v in vectors]

    vectors = asyncio.run(scenario())
    assert len(encoder.calls) == 1 and len(encoder.calls[0]) == 10
    assert [name.split("_")[0] for name in encoder.threads_seen] == ["embed"]  # off the event loop
    for i, vector in enumerate(vectors):
        np.testing.assert_allclose(vector, encoder.encode_one(f"Frage {'x' * i}"))


def test_a_full_batch_goes_at_once_and_errors_reach_every_caller() -> None:
    encoder = CountingEncoder()

    async def scenario() -> None:
        batcher = MicroBatcher(encoder, window_ms=10_000, max_batch=3)
        await asyncio.wait_for(asyncio.gather(*(batcher.embed(str(i)) for i in range(3))), timeout=5)
        encoder.encode = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("model gone"))  # type: ignore[method-assign]
        results = await asyncio.gather(*(batcher.embed("a") for _ in range(3)), return_exceptions=True)
        assert all(isinstance(r, RuntimeError) for r in results)
        await batcher.close()

    asyncio.run(scenario())
    assert [len(call) for call in encoder.calls] == [3]
    with pytest.raises(ValueError, match="max_batch"):
        MicroBatcher(encoder, max_batch=0)


def test_a_sealed_vector_opens_only_for_its_text_model_and_key() -> None:
    vector = np.linspace(-1, 1, 8).astype(np.float32)
    sealed = seal(vector, "model-a", "Wie beantrage ich einen Pass?", "secret-key")
    opened = unseal(sealed, "Wie beantrage ich einen Pass?", "secret-key", dim=8)
    assert opened is not None and opened[1] == "model-a"
    np.testing.assert_array_equal(opened[0], vector)
    assert unseal(sealed, "Wie beantrage ich einen Ausweis?", "secret-key") is None  # another text
    assert unseal(sealed, "Wie beantrage ich einen Pass?", "other-key") is None  # not signed by us
    assert unseal({**sealed, "model": "model-b"}, "Wie beantrage ich einen Pass?", "secret-key") is None
    forged = seal(-vector, "model-a", "x", "secret-key")
    assert unseal({**sealed, "vector": forged["vector"]}, "Wie beantrage ich einen Pass?", "secret-key") is None
    assert unseal(sealed, "Wie beantrage ich einen Pass?", "secret-key", dim=384) is None
    for broken in (None, "text", {"vector": 1, "model": "m", "sig": "s"}, {}):
        assert unseal(broken, "x", "secret-key") is None


def test_the_searcher_ranks_with_a_given_vector_only_if_its_model_is_the_index_model(
        mini_kb: Path, encoder: HashEncoder) -> None:
    searcher = FaqSearcher(encoder, index=build_index(load_kb(mini_kb), encoder))
    given = encoder.encode_one("Sperrmüll Abholung anmelden")
    before = encoder.calls
    ranked = searcher.search("ganz anderer Text", vector=given, vector_model=encoder.fingerprint)
    assert encoder.calls == before  # not embedded again
    assert ranked.candidates[0].faq_id == "sperrmuell"
    other = searcher.search("ganz anderer Text", vector=given, vector_model="another-model")
    assert encoder.calls == before + 1  # a vector of another model is not used
    assert other.candidates[0].faq_id != "sperrmuell" or other.candidates[0].score < ranked.candidates[0].score
