"""The real multilingual model: provisioning, German retrieval, and the Rasa component in-process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.embedding.encoder import shared_encoder
from bot.embedding.provision import EXPECTED_WEIGHTS, MANIFEST, is_provisioned, locate_inputs, sha256_file
from bot.embedding.st_encoder import Encoder
from bot.kb import load_kb
from bot.publish.build import build_and_publish
from bot.retrieval.searcher import FaqSearcher
from bot.retrieval.store import IndexStore

pytestmark = pytest.mark.slow


def test_provisioned_model_matches_its_manifest_and_pinned_checksum(real_model: Path) -> None:
    assert is_provisioned(real_model)
    manifest = json.loads((real_model / MANIFEST).read_text())
    assert manifest["model.safetensors"] == EXPECTED_WEIGHTS
    assert sha256_file(real_model / "model.safetensors") == EXPECTED_WEIGHTS


def test_restricted_vocabulary_tokenizes_exactly_like_the_original(real_model: Path) -> None:
    from tokenizers import Tokenizer

    original = Tokenizer.from_file(str(locate_inputs()["tokenizer"]))
    restricted = Tokenizer.from_file(str(real_model / "tokenizer.json"))
    vocab = {v: k for k, v in restricted.get_vocab().items()}
    texts = ["query: Wie beantrage ich einen Personalausweis?", "How do I register my address? 12.05.2026",
             "Straße, Größe, Übermittlungssperre – Führerschein (1971)", "Привет! Как подать заявление на жильё?",
             "مرحبا، كيف أسجل عنوان سكني؟", "Merhaba, ikamet izni nasıl uzatılır?", "Ελληνικά 😀 € §"]
    for text in texts:
        assert [vocab[i] for i in restricted.encode(text).ids] == original.encode(text).tokens, text
    assert restricted.get_vocab_size() < original.get_vocab_size() * 0.7


def test_missing_model_fails_loudly_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="auskunft model provision"):
        Encoder(str(tmp_path / "no-model"))


def test_german_paraphrases_are_closer_than_unrelated_questions(real_model: Path) -> None:
    encoder = shared_encoder(str(real_model), 1)
    vectors = encoder.encode(["Ich habe meinen Perso verloren", "Personalausweis gestohlen, was tun?",
                              "Wann wird der Sperrmüll abgeholt?"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.03


def test_sample_kb_retrieval_with_the_real_model(real_model: Path, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    encoder = shared_encoder(str(real_model), 1)
    build_and_publish(root / "kb", tmp_path / "index", tmp_path / "cache", encoder)
    searcher = FaqSearcher(encoder, store=IndexStore(tmp_path / "index"))
    assert searcher.search("Mein Ausweis wurde geklaut").candidates[0].faq_id == "personalausweis-verloren"
    english = searcher.search("How do I register my address after moving?")
    assert english.lang == "en" and english.candidates[0].faq_id == "en-register-address"
    assert len(load_kb(root / "kb").entries) == len(searcher.index().records)


def test_component_persist_load_gives_the_same_output(real_model: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.constants import INTENT, METADATA, TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.config.settings import get_settings
    from bot.nlu.faq_retriever import FaqRetriever

    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("AUSKUNFT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    index_dir = tmp_path / "index"
    build_and_publish(root / "kb", index_dir, tmp_path / "cache", shared_encoder(str(real_model), 1))
    config = {**FaqRetriever.get_default_config(), "index_dir": str(index_dir), "embedding_model": str(real_model)}
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("faq_retriever")
    context = ExecutionContext(GraphSchema({}), "test")

    def parse(component: FaqRetriever, text: str) -> dict:
        message = Message(data={TEXT: text})
        message.set(INTENT, {"name": "greet", "confidence": 0.9}, add_to_output=True)  # as a classifier does
        component.process([message])
        return message.as_dict(only_output_properties=True)

    trained = FaqRetriever.create(config, storage, resource, context)
    examples = [Message(data={TEXT: text, INTENT: "greet"}) for text in ("Hallo", "Guten Tag", "Moin")]
    trained.train(TrainingData(training_examples=examples))
    before = parse(trained, "Hallo, wie beantrage ich einen neuen Reisepass?")
    assert before["faq"]["candidates"][0]["faq_id"] == "reisepass-beantragen"
    assert before[INTENT]["name"] == "faq"  # a question with a greeting is routed to the FAQ

    loaded = FaqRetriever.load(config, storage, resource, context)
    after = parse(loaded, "Hallo, wie beantrage ich einen neuen Reisepass?")
    assert after["faq"]["candidates"] == before["faq"]["candidates"]

    shutil.rmtree(index_dir)  # nothing published: the snapshot from training answers
    snapshot = parse(FaqRetriever.load(config, storage, resource, context), "Hallo, wie beantrage ich einen neuen Reisepass?")
    assert snapshot["faq"]["candidates"] == before["faq"]["candidates"]
    greeting = parse(loaded, "Hallo")
    assert greeting[INTENT]["name"] == "greet"
    noise = Message(data={TEXT: "jjjjjj", METADATA: {"lang": "de"}})
    loaded.process([noise])
    assert noise.get(INTENT)["name"] == "not_understood"
    assert (noise.get("faq")["lang"], noise.get("faq")["lang_confident"]) == ("de", False)  # the page's language

    class KbTunedModel:  # an index built with a kb-tuned model is searched in that model's space
        name = "/models/tuned-x"
        calls = 0

        def encode(self, texts: list, *args: object, **kwargs: object) -> np.ndarray:
            KbTunedModel.calls += 1
            return np.eye(len(texts), 8, dtype=np.float32)

    tuned = KbTunedModel()
    in_tuned_space = loaded._intents_for(tuned)  # intent examples re-embedded from the stored texts
    assert in_tuned_space.labels == loaded._intents.labels and in_tuned_space.vectors.shape == (3, 8)
    assert loaded._intents_for(tuned) is in_tuned_space and KbTunedModel.calls == 1  # once per model
    assert loaded._intents_for(loaded._encoder) is loaded._intents
    get_settings.cache_clear()


def test_rasa_training_cache_key_follows_the_live_index_and_model(real_model: Path, mini_kb: Path,
                                                                  tmp_path: Path) -> None:
    from bot.nlu.faq_retriever import FaqRetriever
    from tests.conftest import HashEncoder

    config = {"index_dir": str(tmp_path / "index"), "embedding_model": str(real_model)}
    before = FaqRetriever.fingerprint_addon(config)
    build_and_publish(mini_kb, tmp_path / "index", tmp_path / "cache", HashEncoder())
    published = FaqRetriever.fingerprint_addon(config)
    assert before != published  # a new index: rasa train snapshots it instead of reusing its cache
    assert FaqRetriever.fingerprint_addon({**config, "embedding_model": "other-model"}) != published
