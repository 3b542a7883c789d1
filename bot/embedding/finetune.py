"""Fine-tune the embedding model on the kb's own phrasings (SetFit-style contrastive learning).

Each entry's phrasings are positives for one another (and for the entry's answer
passages); every other entry in the batch is a negative (sentence-transformers'
``MultipleNegativesRankingLoss``). A batch never holds two pairs of the same entry,
so no positive is mistaken for a negative. Only the transformer layers learn: the
4-bit word-embedding table stays as shipped.

The training loop is sentence-transformers' loss over the model's own ``preprocess``;
``SentenceTransformerTrainer`` would add ``datasets`` and ``accelerate`` (with pyarrow
and pandas) to a dependency set that Rasa already pins tightly.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

from bot.embedding.onnx_export import ONNX_DIR, export_onnx
from bot.kb.chunking import passages
from bot.kb.entry import FaqEntry

Pair = Tuple[str, str, int]
FINETUNE_FILE = "auskunft-finetune.json"


@dataclass(frozen=True)
class FinetuneConfig:
    """Training settings; the defaults run in minutes on two CPU cores for a few thousand phrasings.

    Raises:
        ValueError: a value is out of range; the message names it.
    """

    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 3e-5
    passage_pairs: bool = True
    seed: int = 13

    def __post_init__(self) -> None:
        if not 1 <= self.epochs <= 20:
            raise ValueError(f"epochs must be between 1 and 20, got {self.epochs}")
        if not 4 <= self.batch_size <= 256:
            raise ValueError(f"batch_size must be between 4 and 256, got {self.batch_size}")
        if not 0 < self.learning_rate < 1e-2:
            raise ValueError(f"learning_rate must be in (0, 0.01), got {self.learning_rate}")


def training_pairs(entries: Sequence[FaqEntry], config: FinetuneConfig, rng: random.Random) -> List[Pair]:
    """(anchor, positive, entry position) pairs: each phrasing with another phrasing or a passage of its entry."""
    pairs: List[Pair] = []
    for position, entry in enumerate(entries):
        phrasings = list(entry.phrasings)
        docs = passages(entry.title, entry.answer) if config.passage_pairs else []
        for i, anchor in enumerate(phrasings):
            others = phrasings[:i] + phrasings[i + 1 :]
            if others:
                pairs.append((f"query: {anchor}", f"query: {rng.choice(others)}", position))
            if docs:
                pairs.append((f"query: {anchor}", f"passage: {rng.choice(docs)}", position))
    return pairs


def batches(pairs: List[Pair], size: int, rng: random.Random) -> List[List[Pair]]:
    """Shuffled batches in which no entry appears twice (its pairs would be false negatives)."""
    pending = pairs[:]
    rng.shuffle(pending)
    out: List[List[Pair]] = []
    while pending:
        batch: List[Pair] = []
        seen: set[int] = set()
        rest: List[Pair] = []
        for pair in pending:
            if len(batch) < size and pair[2] not in seen:
                batch.append(pair)
                seen.add(pair[2])
            else:
                rest.append(pair)
        if len(batch) > 1:
            out.append(batch)
        elif batch:
            break  # one entry left over: nothing to contrast it with
        pending = rest
    return out


def finetune(
    model: object,
    entries: Sequence[FaqEntry],
    config: FinetuneConfig = FinetuneConfig(),
    progress: Optional[Callable[[int, int], None]] = None,
) -> dict:
    """Train ``model`` (a ``SentenceTransformer``) in place on the entries' phrasings.

    Returns:
        A summary: steps, pairs, seconds, the mean loss of the first and last tenth of steps.
    """
    import torch
    from sentence_transformers.losses import MultipleNegativesRankingLoss

    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    st = model
    loss_fn = MultipleNegativesRankingLoss(st)  # type: ignore[arg-type]
    trainable = [p for p in st.parameters() if p.requires_grad]  # type: ignore[attr-defined]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate)
    plan = [batches(training_pairs(entries, config, rng), config.batch_size, rng) for _ in range(config.epochs)]
    total = sum(len(epoch) for epoch in plan)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / max(1, total // 10)) * max(0.0, 1 - step / max(total, 1)))
    prepare = getattr(st, "preprocess", None) or st.tokenize  # type: ignore[attr-defined]
    st.train()  # type: ignore[attr-defined]
    history: List[float] = []
    started = time.perf_counter()
    for epoch in plan:
        for batch in epoch:
            features = [prepare([p[0] for p in batch]), prepare([p[1] for p in batch])]
            loss = loss_fn(features, torch.empty(0))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            history.append(float(loss.detach()))
            if progress:
                progress(len(history), total)
    st.eval()  # type: ignore[attr-defined]
    tenth = max(1, len(history) // 10)
    return {"steps": len(history), "pairs": sum(len(b) for e in plan for b in e) // max(config.epochs, 1),
            "seconds": round(time.perf_counter() - started, 1),
            "loss_first": round(sum(history[:tenth]) / tenth, 4) if history else None,
            "loss_last": round(sum(history[-tenth:]) / tenth, 4) if history else None,
            "config": asdict(config)}


def save_finetuned(model: object, base_dir: Path, out_dir: Path, summary: dict) -> Path:
    """Write a model directory: the base model's files, with the tuned transformer weights.

    The 4-bit word-embedding table is not trained; it is copied as is, and the float32
    table in ``model.safetensors`` is taken over from the base model.
    """
    from safetensors.torch import load_file, save_file

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(base_dir, tmp, ignore=shutil.ignore_patterns("model.safetensors", ONNX_DIR))
    tensors = load_file(str(base_dir / "model.safetensors"))
    tuned = model[0].auto_model.state_dict()  # type: ignore[index]
    for name in tensors:
        if name in tuned:
            tensors[name] = tuned[name].detach().clone().contiguous()
    save_file(tensors, str(tmp / "model.safetensors"))
    (tmp / FINETUNE_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    export_onnx(tmp)  # the bot serves the tuned model without torch, like the base model
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir
