"""The embedding model fine-tuned on the current kb: trained once per kb content, kept on disk, loaded again."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Optional, Sequence

from bot.embedding.encoder import QueryEncoder, shared_encoder
from bot.embedding.finetune import FINETUNE_FILE, FinetuneConfig
from bot.embedding.st_encoder import Encoder
from bot.errors import AuskunftError
from bot.kb.entry import FaqEntry

KEEP = 3  # the live model, the one before it (still referenced by the last good index), one spare


def tuned_model_dir(base: QueryEncoder, entries: Sequence[FaqEntry], config: FinetuneConfig, models_dir: Path) -> Path:
    """Where the model tuned on exactly these entries with these settings lives."""
    payload = json.dumps([base.fingerprint, sorted(e.embedding_key() for e in entries), asdict(config)])
    return models_dir / f"tuned-{hashlib.sha256(payload.encode()).hexdigest()[:12]}"


def tuned_encoder(
    base: QueryEncoder,
    entries: Sequence[FaqEntry],
    config: FinetuneConfig,
    models_dir: Path,
    progress: Optional[Callable[[int, int], None]] = None,
    backend: str = "onnx",
) -> QueryEncoder:
    """The base model fine-tuned on ``entries``: loaded if it was trained before, else trained (minutes) and saved.

    Training uses sentence-transformers (the ``train`` extra); the saved copy carries its ONNX graph, so
    the bot serves it like the base model, on the same backend.

    Older tuned models beyond the newest ``KEEP`` are deleted.
    """
    directory = tuned_model_dir(base, entries, config, models_dir)
    if not (directory / FINETUNE_FILE).is_file():
        trainee = Encoder(base.name, threads=base.threads)
        summary = trainee.fine_tune(entries, config, progress)
        models_dir.mkdir(parents=True, exist_ok=True)
        trainee.save(directory, summary)
        del trainee
    directory.touch()
    for old in sorted(models_dir.glob("tuned-*"), key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)
    return shared_encoder(str(directory), base.threads, backend=backend)


def kb_tuner(
    base: QueryEncoder, epochs: int, models_dir: Path, progress: Optional[Callable[[int, int], None]] = None,
    backend: str = "onnx",
) -> Optional[Callable[[object], QueryEncoder]]:
    """The ``tune_for_kb`` hook of :func:`bot.publish.build.build_and_publish`; None when ``epochs`` is 0.

    Raises:
        TypeError: ``base`` names no model (it cannot be trained).
        FineTuningUnavailable: fine-tuning is asked for but torch and sentence-transformers are not installed.
    """
    if epochs <= 0:
        return None
    if not isinstance(getattr(base, "name", None), str):
        raise TypeError(f"fine-tuning needs an encoder of a model directory or name, got {type(base).__name__}")
    if importlib.util.find_spec("sentence_transformers") is None:
        raise FineTuningUnavailable("AUSKUNFT_FINETUNE_EPOCHS is set, but fine-tuning needs torch and "
                                    "sentence-transformers; install them with 'make setup-dev' or set "
                                    "AUSKUNFT_FINETUNE_EPOCHS=0")
    config = FinetuneConfig(epochs=epochs)
    return lambda kb: tuned_encoder(base, kb.entries, config, models_dir, progress,  # type: ignore[attr-defined]
                                    backend=backend)


class FineTuningUnavailable(AuskunftError, RuntimeError):
    """Fine-tuning was asked for in an install without the training packages."""
