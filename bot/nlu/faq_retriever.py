"""Rasa GraphComponent: rank FAQ entries for every message and attach them to the parse result.

A thin adapter over :mod:`bot.retrieval`. At training time it embeds the examples
of the conversational intents (greet, thanks, ...) and snapshots the live index
into Rasa's model storage; at run time it follows the published index
(``auskunft kb build`` swaps it without retraining or restart) and falls back to
the snapshot only if nothing is published.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.config.agencies import UnknownAgency
from bot.config.settings import get_settings
from bot.decision.routing import FAQ_INTENT, NOT_UNDERSTOOD, IntentExamples, route_intent
from bot.embedding.encoder import model_fingerprint, release_free_memory
from bot.embedding.sealed_vector import INCOMING, METADATA_KEY, unseal
from bot.metrics import observe_retrieval
from bot.retrieval import assembly
from bot.retrieval.assembly import query_encoder
from bot.retrieval.index import FORMAT_VERSION, FaqIndex
from bot.retrieval.language import normalise_language
from bot.retrieval.searcher import FaqSearcher, SearchResult
from bot.retrieval.store import IndexStore
from bot.run.runtime_env import vector_key

logger = logging.getLogger(__name__)
FAQ_KEY = "faq"
TRIM_EVERY = 20


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class FaqRetriever(GraphComponent):
    """Ranks FAQ entries for each message (``faq``) and routes its intent (:func:`bot.decision.route_intent`)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            "index_dir": None,
            "embedding_model": None,
            "encoder_threads": None,
            "top_k": 5,
            # Intents whose training examples classify messages by nearest neighbour (None: all but 'faq').
            "conversational_intents": None,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        snapshot: Optional[FaqIndex] = None,
        intents: Optional[IntentExamples] = None,
        intent_texts: Optional[List[str]] = None,
    ) -> None:
        """Validates the config and loads the encoder (fails loudly at start-up)."""
        self.config = {**self.get_default_config(), **config}
        if int(self.config["top_k"]) < 1:
            raise ValueError(f"FaqRetriever: top_k must be at least 1, got {self.config['top_k']}")
        settings = get_settings()
        self._settings = settings
        self._model_storage = model_storage
        self._resource = resource
        self._agencies = settings.agencies()  # fails loudly at start-up on a bad agencies.yml
        self._store = assembly.agency_store(settings, self._agencies.default,
                                            Path(self.config["index_dir"] or settings.index_dir))
        self._snapshot = snapshot
        self._use_intents(intents or IntentExamples([], np.zeros((0, 1), dtype=np.float32)))
        self._intent_texts = intent_texts or []
        self._intents_by_model: Dict[str, IntentExamples] = {}
        self._processed = 0
        self._decision_config = settings.decision_config()
        self._live: Dict[str, FaqSearcher] = {}
        self._threads = int(self.config["encoder_threads"] or settings.encoder_threads)
        self._encoder = query_encoder(settings, self.config["embedding_model"], self._threads)  # loads on first use
        self._key: Optional[str] = None

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """Adds the index format, the live index version and the model to Rasa's training cache key.

        Training snapshots the live index and embeds the intent examples; without this, Rasa's
        cache would hand back a snapshot of an older index (or format) or vectors of another model.
        """
        settings = get_settings()
        store = IndexStore(Path(config.get("index_dir") or settings.index_dir))
        model = config.get("embedding_model") or settings.model_name
        return f"{FORMAT_VERSION}:{store.live_version()}:{model_fingerprint(model)}"

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "FaqRetriever":
        """Creates a new untrained component (see parent class for full docstring)."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "FaqRetriever":
        """Loads the trained component with its index snapshot (see parent class for full docstring)."""
        snapshot, intents, texts = None, None, None
        try:
            with model_storage.read_from(resource) as directory:
                snapshot = FaqIndex.load(directory / "index")
                stored = json.loads((directory / "intents.json").read_text())
                intents = IntentExamples(stored["labels"], np.load(directory / "intents.npy", allow_pickle=False))
                texts = stored.get("texts")
        except (ValueError, FileNotFoundError) as err:
            logger.warning("FaqRetriever: no trained data in the model (%s); retrain with 'auskunft train'", err)
        return cls(config, model_storage, resource, snapshot=snapshot, intents=intents, intent_texts=texts)

    def train(self, training_data: TrainingData) -> Resource:
        """Embeds conversational intent examples and snapshots the live index into model storage."""
        index = self._store.current()
        keep = self._conversational(training_data.intents) | {FAQ_INTENT}  # 'faq' examples count against the others
        examples = [(m.get(INTENT), m.get(TEXT)) for m in training_data.intent_examples if m.get(INTENT) in keep]
        self._intent_texts = [str(text) for _, text in examples]
        vectors = self._encoder.encode(self._intent_texts)
        self._use_intents(IntentExamples([str(label) for label, _ in examples], vectors))
        with self._model_storage.write_to(self._resource) as directory:
            index.save(directory / "index")
            np.save(directory / "intents.npy", vectors, allow_pickle=False)
            (directory / "intents.json").write_text(json.dumps({**self._intents.to_dict(),
                                                                "texts": self._intent_texts}))
        self._snapshot = index
        return self._resource

    def _use_intents(self, intents: IntentExamples) -> None:
        self._intents = intents
        self._routable = self._conversational(intents.labels)  # computed once, used per message

    def _conversational(self, known: Any) -> set:
        configured = self.config["conversational_intents"]
        return set(configured) if configured is not None else {str(i) for i in known if i != FAQ_INTENT}

    def _intents_for(self, encoder: object) -> IntentExamples:
        """The intent examples in the space of ``encoder`` (a model fine-tuned on the kb has its own)."""
        name = getattr(encoder, "name", None)
        if encoder is None or encoder is self._encoder or not self._intent_texts or name is None:
            return self._intents
        if name not in self._intents_by_model:
            logger.info("embedding %d intent examples with the kb-tuned model %s", len(self._intent_texts), name)
            self._intents_by_model = {name: IntentExamples(self._intents.labels,
                                                           encoder.encode(self._intent_texts))}  # type: ignore[attr-defined]
        return self._intents_by_model[name]

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leaves training data unchanged (see parent class for full docstring)."""
        return training_data

    def searcher(self, agency: Optional[str] = None) -> FaqSearcher:
        """A searcher over the agency's live index (the default agency: or the training snapshot).

        Raises:
            UnknownAgency: ``agency`` names no agency of this deployment.
            FileNotFoundError: nothing is published for the agency (and, for the default one, no snapshot).
        """
        top_k, lang = int(self.config["top_k"]), self._settings.default_language
        chosen = self._agencies.get(agency)
        live = self._live.get(chosen.key)
        if live is None:  # one searcher per agency for the process: it follows the agency's published index
            live = self._live[chosen.key] = assembly.searcher(self._settings, chosen, encoder=self._encoder,
                                                              top_k=top_k, index_root=self._store.root,
                                                              threads=self._threads)
        if not chosen.is_default:
            return live
        try:
            self._store.current()
            return live
        except FileNotFoundError:
            if self._snapshot is None:
                raise
            logger.warning("no published FAQ index in %s; serving the training snapshot", self._store.root)
            return FaqSearcher(self._encoder, index=self._snapshot, top_k=top_k, default_language=lang)

    def _search(self, text: str, metadata: Dict[str, Any]
                ) -> Tuple[Optional[SearchResult], Dict[str, Any], frozenset]:
        """The ranking for one message in its agency's index; an unknown or unpublished agency ranks nothing."""
        agency = metadata.get("agency") or None
        try:
            searcher = self.searcher(str(agency) if agency else None)
        except (UnknownAgency, FileNotFoundError) as err:
            logger.warning("no FAQ candidates for this message: %s", err)
            return None, {"candidates": [], "lang": metadata.get("lang") or self._settings.default_language,
                          "index_version": None, "agency": agency, "error": type(err).__name__}, frozenset()
        text = text[: self._settings.max_message_chars]
        offered = metadata.get(METADATA_KEY) or INCOMING.get()  # from the web service (see bot.web.query_vectors)
        sealed = unseal(offered, text, self._vector_key()) if offered is not None else None
        result = searcher.search(text, lang_hint=metadata.get("lang"), vector=sealed[0] if sealed else None,
                                 vector_model=sealed[1] if sealed else None)
        embedded_by = "web" if sealed is not None and sealed[0] is result.vector else "rasa"
        return (result, {**result.to_dict(), "agency": self._agencies.get(agency).key, "embedded_by": embedded_by},
                searcher.index().languages.vocabulary)

    def _vector_key(self) -> str:
        """The key the web service signs query vectors with (``vector_key``, by default derived from the API token)."""
        if self._key is None:
            self._key = vector_key(self._settings)
        return self._key

    def process(self, messages: List[Message]) -> List[Message]:
        """Ranks FAQ entries and sets the intent of each message (see the class docstring)."""
        for message in messages:
            text = message.get(TEXT) or ""
            if not text.strip() or text.startswith("/"):
                continue
            started = time.perf_counter()
            metadata = message.get(METADATA) or {}
            result, payload, vocabulary = self._search(text, metadata if isinstance(metadata, dict) else {})
            intent = message.get(INTENT) or {}  # set by another classifier, if the pipeline has one
            if result is None:
                routed, confidence = str(intent.get("name") or FAQ_INTENT), 0.0
            else:
                intents = self._intents_for(result.encoder)
                nearest, similarity = (intents.nearest(result.vector) if result.vector is not None
                                       else (None, -1.0))
                route = route_intent(text, intent.get("name"), nearest, similarity, result.best_phrasing,
                                     self._routable, self._decision_config, vocabulary)
                routed, confidence = route.intent, route.similarity
                payload["nearest_intent"] = {"name": nearest, "similarity": round(similarity, 4)}
                if routed == NOT_UNDERSTOOD:  # typing noise says nothing of the language: the page's decides
                    payload.update(lang=normalise_language(metadata.get("lang") if isinstance(metadata, dict)
                                                           else None, self._settings.default_language),
                                   lang_confident=False)
            payload["ms"] = round((time.perf_counter() - started) * 1000, 1)
            observe_retrieval(payload.get("embedded_by"), time.perf_counter() - started)
            message.set(FAQ_KEY, payload, add_to_output=True)
            message.set(INTENT, {"name": routed, "confidence": round(confidence, 4)}, add_to_output=True)
            message.set("intent_ranking", [{"name": routed, "confidence": round(confidence, 4)}], add_to_output=True)
            self._processed += 1
            if self._processed % TRIM_EVERY == 0:
                release_free_memory()  # glibc otherwise keeps freed activation buffers (~100 MB)
        return messages
