"""Rasa's stock FAQ approach as a baseline: a retrieval intent ``faq`` and a trained ResponseSelector.

Each kb entry becomes the response ``faq/<entry id>`` with the entry's phrasings (title and
questions) as training examples, as in Rasa 3.x's "Chitchat and FAQs" guide. The pipeline is the
documented one (WhitespaceTokenizer, RegexFeaturizer, LexicalSyntacticFeaturizer, two
CountVectorsFeaturizers, ResponseSelector with ``retrieval_intent: faq``) except for one choice:

**DIETClassifier is left out.** In the guide DIET tells the retrieval intent ``faq`` apart from the
bot's other intents (greet, ...). A kb only yields the one intent ``faq``; Rasa 3.6's DIET needs at
least two intent classes (with one it logs an error and skips training), and inventing other
intents would measure data we made up. The ResponseSelector does not depend on DIET: it is
trained on the ``faq`` examples only and predicts for every message. What is measured is therefore
exactly the ResponseSelector's ranking of the entries; its confidence (softmax, in [0, 1]) is the
score the decision function and the threshold search see. The other deviation: a fixed
``random_seed``, so that the figure is reproducible (Rasa's default is none).

Only NLU is trained and loaded (no policies, no tracker, no Agent): the prediction graph runs on
batches of messages. Telemetry and Rasa's training cache are off, and Rasa is kept at WARNING
(no epoch bar, no warnings) while training and parsing; epochs are reported through ``progress``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
import warnings
import weakref
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

import yaml

from bot.evaluation.dataset import Example
from bot.evaluation.runner import Ranked
from bot.kb.loader import KnowledgeBase
from bot.retrieval.index import Candidate

Reporter = Callable[[int, int], None]
ProgressFactory = Callable[[str], Optional[Reporter]]
RETRIEVAL_INTENT = "faq"
_QUIET_ENV = {"RASA_TELEMETRY_ENABLED": "false", "LOG_LEVEL": "WARNING", "LOG_LEVEL_LIBRARIES": "ERROR",
              "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "RASA_MAX_CACHE_SIZE": "0"}


class ResponseSelectorBaseline:
    """Trains Rasa's ResponseSelector on a kb (lazily, once) and ranks messages with it.

    Args:
        kb: the knowledge base.
        work_dir: where the Rasa project and model are written; a temporary directory
            (removed by :meth:`close` or when the object is collected) if not given.
        epochs: ResponseSelector training epochs (Rasa's default is 300; its FAQ guide uses 100).
        progress: ``label -> (done, total)`` callback factory, as ``auskunft eval`` uses;
            training reports epochs under ``response_selector train``.
        ranking_length: how many entries Rasa ranks per message (at most ``k`` of them are used).
        batch: messages per call of the prediction graph.
        seed: the ResponseSelector's ``random_seed`` (``None``: Rasa's default, not reproducible).
    """

    def __init__(self, kb: KnowledgeBase, work_dir: Optional[Path] = None, epochs: int = 100,
                 progress: Optional[ProgressFactory] = None, ranking_length: int = 10, batch: int = 256,
                 seed: Optional[int] = 1) -> None:
        self.kb, self.epochs, self.ranking_length, self.batch = kb, epochs, ranking_length, batch
        self.seed = seed
        self._entries = kb.by_id()
        self._progress = progress or (lambda _label: None)
        self._scratch: Optional[tempfile.TemporaryDirectory[str]] = None
        if work_dir is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="auskunft-response-selector-")
            weakref.finalize(self, self._scratch.cleanup)
            work_dir = Path(self._scratch.name)
        self.work_dir = Path(work_dir)
        self._runner: Any = None
        self._target = ""
        self.train_seconds: Optional[float] = None
        self.parse_seconds = 0.0

    def close(self) -> None:
        """Drop the loaded model and remove the temporary work directory, if one was created."""
        self._runner = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def write_project(self) -> Dict[str, Path]:
        """Write config, domain and NLU data for the kb into the work directory.

        Returns:
            The written files keyed ``config``, ``domain`` and ``nlu``.
        """
        entries = self.kb.entries
        language = Counter(e.lang for e in entries).most_common(1)[0][0] if entries else "de"
        config = {
            "recipe": "default.v1",
            "language": language,
            "pipeline": [
                {"name": "WhitespaceTokenizer"},
                {"name": "RegexFeaturizer"},
                {"name": "LexicalSyntacticFeaturizer"},
                {"name": "CountVectorsFeaturizer"},
                {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
                {"name": "ResponseSelector", "epochs": self.epochs, "retrieval_intent": RETRIEVAL_INTENT,
                 "ranking_length": self.ranking_length, "random_seed": self.seed},
            ],
            "policies": [],
        }
        domain = {
            "version": "3.1",
            "intents": [RETRIEVAL_INTENT],
            "responses": {f"utter_{RETRIEVAL_INTENT}/{e.id}": [{"text": e.answer}] for e in entries},
        }
        nlu = {
            "version": "3.1",
            "nlu": [{"intent": f"{RETRIEVAL_INTENT}/{e.id}", "examples": _examples_block(e.phrasings)}
                    for e in entries],
        }
        self.work_dir.mkdir(parents=True, exist_ok=True)
        files = {"config": self.work_dir / "config.yml", "domain": self.work_dir / "domain.yml",
                 "nlu": self.work_dir / "nlu.yml"}
        for key, content in (("config", config), ("domain", domain), ("nlu", nlu)):
            files[key].write_text(yaml.dump(content, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False,
                                            width=10_000), encoding="utf-8")
        return files

    def train(self) -> Path:
        """Write the project, train the NLU model in-process and load its prediction graph.

        Returns:
            The model archive.

        Raises:
            RuntimeError: Rasa did not produce a model.
        """
        files = self.write_project()
        started = time.perf_counter()
        with _quiet_rasa(self.work_dir / "cache"), _epoch_progress(self._progress("response_selector train"),
                                                                    self.epochs):
            from rasa.model_training import train_nlu

            model = train_nlu(str(files["config"]), str(files["nlu"]), str(self.work_dir / "models"),
                              fixed_model_name="response-selector", domain=str(files["domain"]))
        if not model:
            raise RuntimeError(f"Rasa did not train a ResponseSelector model (project in {self.work_dir})")
        self.train_seconds = time.perf_counter() - started
        self._load(Path(model))
        return Path(model)

    def trained(self) -> ResponseSelectorBaseline:
        """Train (once) and load the model; returns ``self``."""
        if self._runner is None:
            self.train()
        return self

    def rank(self, examples: Sequence[Example], k: int = 10, progress: Optional[Reporter] = None) -> Ranked:
        """Top-k entries per example by the ResponseSelector's confidence (best first).

        Trains the model on first use. At most ``ranking_length`` entries are returned per example.
        """
        self.trained()
        started = time.perf_counter()
        ranked: Ranked = []
        for start in range(0, len(examples), self.batch):
            chunk = examples[start : start + self.batch]
            for example, ranking in zip(chunk, self._parse([e.text for e in chunk]), strict=True):
                ranked.append((example, self._candidates(ranking, k)))
            if progress:
                progress(len(ranked), len(examples))
        self.parse_seconds += time.perf_counter() - started
        return ranked

    def _load(self, model: Path) -> None:
        storage = self.work_dir / "storage"
        shutil.rmtree(storage, ignore_errors=True)  # Rasa unpacks only into an empty directory, and one
        storage.mkdir(parents=True)  # that exists: else the first component's files end up at its top
        with _quiet_rasa():
            from rasa.engine.loader import load_predict_graph_runner
            from rasa.engine.runner.dask import DaskGraphRunner
            from rasa.engine.storage.local_model_storage import LocalModelStorage

            metadata, self._runner = load_predict_graph_runner(
                storage, model, LocalModelStorage, DaskGraphRunner)
        self._target = metadata.nlu_target

    def _parse(self, texts: Sequence[str]) -> List[List[Dict[str, Any]]]:
        if not texts:
            return []
        with _quiet_rasa():
            from rasa.core.channels.channel import UserMessage
            from rasa.engine.constants import PLACEHOLDER_MESSAGE

            results = self._runner.run(inputs={PLACEHOLDER_MESSAGE: [UserMessage(text) for text in texts]},
                                       targets=[self._target])
        rankings = []
        for message in results[self._target]:
            selector = message.get("response_selector") or {}
            prediction = selector.get(RETRIEVAL_INTENT) or selector.get("default") or {}
            rankings.append(list(prediction.get("ranking") or []))
        return rankings

    def _candidates(self, ranking: List[Dict[str, Any]], k: int) -> List[Candidate]:
        prefix = f"{RETRIEVAL_INTENT}/"
        candidates = []
        for label in ranking:
            key = str(label.get("intent_response_key") or "")
            entry = self._entries.get(key[len(prefix):]) if key.startswith(prefix) else None
            if entry is not None:
                score = min(1.0, max(0.0, float(label.get("confidence") or 0.0)))
                candidates.append(Candidate(entry.id, score, entry.title, "", entry.lang, entry.source))
        candidates.sort(key=lambda c: -c.score)
        return candidates[:k]


class _BlockDumper(yaml.SafeDumper):
    """Writes texts with line breaks as ``|`` blocks, as Rasa's docs show NLU examples."""


_BlockDumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))


def _examples_block(phrasings: Sequence[str]) -> str:
    """Rasa's ``examples: |`` list; line breaks inside a phrasing would split it, so they become spaces."""
    return "".join(f"- {' '.join(text.split())}\n" for text in phrasings if text.strip())


@contextlib.contextmanager
def _quiet_rasa(cache: Optional[Path] = None) -> Iterator[None]:
    """Telemetry off, Rasa at WARNING (no epoch bar), no warnings, for the duration only.

    Rasa's training cache is off and, with ``cache``, kept there (its default is ``.rasa/cache``
    in the working directory).
    """
    env = {**_QUIET_ENV, **({"RASA_CACHE_DIRECTORY": str(cache)} if cache else {})}
    saved_env = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    loggers = [logging.getLogger(name) for name in ("rasa", "tensorflow", "absl", "matplotlib")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING if logger.name == "rasa" else logging.ERROR)
    try:
        with open(os.devnull, "w", encoding="utf-8") as devnull, contextlib.redirect_stdout(devnull), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.showwarning = lambda *_args, **_kwargs: None  # imports (sanic) add filters of their own
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _epoch_progress(reporter: Optional[Reporter], epochs: int) -> Iterator[None]:
    """Report training epochs: Rasa's own callbacks (``create_common_callbacks``) get one more."""
    if reporter is None:
        yield
        return
    report: Reporter = reporter
    report(0, epochs)
    from rasa.utils import train_utils

    original = train_utils.create_common_callbacks

    def with_progress(total: int, *args: Any, **kwargs: Any) -> List[Any]:
        import tensorflow as tf

        class _Epochs(tf.keras.callbacks.Callback):  # type: ignore[misc,name-defined]
            def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
                report(epoch + 1, total)

        return [*original(total, *args, **kwargs), _Epochs()]

    train_utils.create_common_callbacks = with_progress
    try:
        yield
    finally:
        train_utils.create_common_callbacks = original
