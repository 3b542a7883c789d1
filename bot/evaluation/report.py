"""``auskunft eval``: the bot and its baselines on one labelled test set, thresholds from dev only."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from bot.calibration import calibrate
from bot.decision import DecisionConfig, IntentExamples
from bot.evaluation.baselines import Bm25Baseline, cosine_phrasings_only
from bot.evaluation.dataset import Example, load_examples
from bot.evaluation.live import ask_all, live_figures
from bot.evaluation.metrics import Outcome, summarise
from bot.evaluation.response_selector import ResponseSelectorBaseline
from bot.evaluation.runner import Ranked, decide_all, rank_all, tune_thresholds, wrong_at_answered
from bot.kb.loader import load_kb
from bot.retrieval.builder import build_index
from bot.retrieval.cache import EmbeddingCache
from bot.retrieval.index import TextEncoder
from bot.retrieval.searcher import FaqSearcher

Progress = Optional[Callable[[int, int], None]]
BASELINES = ("bm25", "cosine", "response_selector")


class MemoEncoder:
    """Remembers query embeddings, so systems sharing the model embed each message once."""

    def __init__(self, encoder: TextEncoder) -> None:
        self._encoder = encoder
        self._memo: Dict[str, "np.ndarray"] = {}
        self.fingerprint, self.dim = encoder.fingerprint, encoder.dim

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False,
               passage: bool = False) -> "np.ndarray":
        """Embed texts; queries are remembered, passages are not."""
        if passage:
            return self._encoder.encode(texts, batch_size, progress, passage=True)
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            self._memo.update(zip(missing, self._encoder.encode(missing, batch_size, progress), strict=True))
        return np.stack([self._memo[t] for t in texts]) if texts else self._encoder.encode([])

    def encode_one(self, text: str) -> "np.ndarray":
        """Embed one query."""
        return self.encode([text])[0]


def evaluate(
    kb_dir: Path,
    test_file: Path,
    encoder: TextEncoder,
    config: DecisionConfig,
    dev_file: Optional[Path] = None,
    cache_dir: Optional[Path] = None,
    baselines: Sequence[str] = BASELINES,
    progress: Callable[[str], Progress] = lambda _label: None,
    work_dir: Optional[Path] = None,
    bot_encoder: Optional[TextEncoder] = None,
    withdraw: bool = False,
    nlu_file: Optional[Path] = None,
    live_url: Optional[str] = None,
    calibrated: bool = True,
) -> Tuple[Dict[str, object], Ranked, DecisionConfig]:
    """Evaluate the bot (and baselines) on ``test_file``; thresholds are tuned on ``dev_file`` if given.

    ``work_dir`` keeps the response selector's Rasa project and model (default: a temporary directory).
    ``bot_encoder`` (e.g. a copy fine-tuned on this kb) serves the bot only; the cosine baseline
    keeps ``encoder``, the model as shipped. The bot's messages are routed like the live bot's (small
    talk from ``nlu_file``'s examples, typing noise) and decided with ``withdraw`` (``withdraw_overdue``).
    With ``live_url`` (the running web service), every test message is also sent through ``/api/chat``
    and the report gains ``end_to_end``: the same figures as lived, and the per-message agreement.
    Without ``dev_file``, the bot decides with the index's calibrated thresholds (as the live bot does) when
    ``calibrated`` is set, else with ``config``'s. The report always has ``calibration`` (the thresholds the index
    chose without labels) and ``without_dev`` (the test figures under them), to compare with dev tuning.

    Returns:
        The report (the issue's keys plus ``baselines``), the bot's ranked test set and its thresholds.

    Raises:
        ValueError: an unknown baseline name.
    """
    unknown = set(baselines) - set(BASELINES)
    if unknown:
        raise ValueError(f"unknown baseline(s) {sorted(unknown)}; choose from {', '.join(BASELINES)}")
    encoder = MemoEncoder(encoder)
    kb = load_kb(kb_dir)
    cache = EmbeddingCache(cache_dir, encoder.fingerprint) if cache_dir else None
    base_index = build_index(kb, encoder, cache, progress("index"))
    bot_embedder = MemoEncoder(bot_encoder) if bot_encoder is not None else encoder
    index = base_index if bot_encoder is None else build_index(kb, bot_embedder, None, progress("tuned index"))
    calibration = calibrate(index, bot_embedder, config, cache if bot_encoder is None else None)
    label_free = calibration.applied_to(config) if calibration else config
    test = load_examples(test_file)
    dev = load_examples(dev_file) if dev_file else []

    intents = IntentExamples.from_nlu_file(nlu_file, bot_embedder.encode) if nlu_file is not None else None
    systems: Dict[str, Callable[[List[Example], str], Ranked]] = {
        "bot": lambda examples, label: rank_all(FaqSearcher(bot_embedder, index=index), examples,
                                                progress=progress(label), intents=intents),
    }
    if "cosine" in baselines:
        plain = cosine_phrasings_only(base_index)
        systems["cosine"] = lambda examples, label: rank_all(FaqSearcher(encoder, index=plain), examples,
                                                           progress=progress(label))
    if "bm25" in baselines:
        bm25 = Bm25Baseline(kb)
        systems["bm25"] = lambda examples, _label: bm25.rank(examples)
    if "response_selector" in baselines:
        selector = ResponseSelectorBaseline(kb, work_dir, progress=progress)
        systems["response_selector"] = lambda examples, label: selector.trained().rank(  # trains before timing
            examples, progress=progress(label))

    results: Dict[str, Dict[str, object]] = {}
    bot_ranked: Ranked = []
    bot_outcomes: List[Outcome] = []
    bot_config = config
    for name, rank in systems.items():
        system_config = _default_config(name, label_free if name == "bot" and calibrated else config)
        if dev:
            system_config = _tune(name, rank(dev, f"{name} dev "), system_config)
        ranked = rank(test, f"{name} test")
        outcomes = decide_all(ranked, system_config, index if name == "bot" else None, withdraw and name == "bot")
        report = summarise(outcomes)
        report["thresholds"] = asdict(system_config)
        if name == "response_selector":
            report["train_seconds"] = round(selector.train_seconds or 0.0, 1)
            report["parse_seconds"] = round(selector.parse_seconds, 1)
        results[name] = report
        if name == "bot":
            bot_ranked, bot_config, bot_outcomes = ranked, system_config, outcomes
    final = dict(results.pop("bot"))
    final["baselines"] = results
    final["bot_at_baseline_answered"] = {
        name: wrong_at_answered(bot_ranked, bot_config, float(figures["answered_correct_rate"]))  # type: ignore[arg-type]
        for name, figures in results.items()
    }
    final["tuned_on_dev"] = bool(dev)
    final["calibration"] = calibration.to_meta() if calibration else None
    final["without_dev"] = summarise(decide_all(bot_ranked, label_free, index, withdraw), with_ci=False)
    if live_url:
        lived = ask_all(live_url, test, progress=progress("end to end"))
        final["end_to_end"] = {**summarise([lv.outcome for lv in lived], with_ci=False),
                               **live_figures(lived, bot_outcomes, test)}
    return final, bot_ranked, bot_config


def _default_config(name: str, config: DecisionConfig) -> DecisionConfig:
    if name in ("bm25", "response_selector"):
        return replace(config, answer_threshold=0.5, clarify_threshold=0.5, min_margin=0.0)
    if name == "cosine":  # one global threshold: answer at or above it, otherwise hand over
        return replace(config, clarify_threshold=config.answer_threshold, min_margin=0.0)
    return config


def _tune(name: str, dev: Ranked, config: DecisionConfig) -> DecisionConfig:
    tuned = tune_thresholds(dev, config)
    if name == "cosine":
        return replace(tuned, clarify_threshold=tuned.answer_threshold, min_margin=0.0)
    return tuned
