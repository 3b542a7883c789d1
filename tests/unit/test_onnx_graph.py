"""The ONNX sentence-encoder graph against a plain numpy BERT, on a tiny random model (fast, offline)."""

from __future__ import annotations

from math import erf

import numpy as np
import pytest

from bot.embedding.onnx_export import build_graph
from bot.embedding.q4_rows import Q4Rows

CONFIG = {"hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 2, "intermediate_size": 16,
          "layer_norm_eps": 1e-12}


def random_state(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    h, f = CONFIG["hidden_size"], CONFIG["intermediate_size"]

    def w(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.5, shape).astype(np.float32)

    state = {"embeddings.position_embeddings.weight": w(16, h), "embeddings.token_type_embeddings.weight": w(2, h),
             "embeddings.LayerNorm.weight": 1 + w(h), "embeddings.LayerNorm.bias": w(h)}
    for layer in range(CONFIG["num_hidden_layers"]):
        p = f"encoder.layer.{layer}"
        for name, (rows, cols) in {"attention.self.query": (h, h), "attention.self.key": (h, h),
                                   "attention.self.value": (h, h), "attention.output.dense": (h, h),
                                   "intermediate.dense": (f, h), "output.dense": (h, f)}.items():
            state[f"{p}.{name}.weight"], state[f"{p}.{name}.bias"] = w(rows, cols), w(rows)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            state[f"{p}.{norm}.weight"], state[f"{p}.{norm}.bias"] = 1 + w(h), w(h)
    return state


def reference(state: dict, embeds: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """BERT + mean pooling + L2 normalisation, written out in numpy (one sentence at a time)."""
    heads, h = CONFIG["num_attention_heads"], CONFIG["hidden_size"]
    d = h // heads

    def norm(x: np.ndarray, prefix: str) -> np.ndarray:
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * state[f"{prefix}.weight"] + state[f"{prefix}.bias"]

    def linear(x: np.ndarray, prefix: str) -> np.ndarray:
        return x @ state[f"{prefix}.weight"].T + state[f"{prefix}.bias"]

    out = []
    for sentence, keep in zip(embeds, mask, strict=True):
        n = int(keep.sum())
        x = sentence[:n] + state["embeddings.position_embeddings.weight"][:n] \
            + state["embeddings.token_type_embeddings.weight"][0]
        x = norm(x, "embeddings.LayerNorm")
        for layer in range(CONFIG["num_hidden_layers"]):
            p = f"encoder.layer.{layer}"
            q, k, v = (linear(x, f"{p}.attention.self.{n_}") for n_ in ("query", "key", "value"))
            ctx = []
            for head in range(heads):
                cols = slice(head * d, (head + 1) * d)
                scores = q[:, cols] @ k[:, cols].T / np.sqrt(d)
                probs = np.exp(scores - scores.max(-1, keepdims=True))
                ctx.append((probs / probs.sum(-1, keepdims=True)) @ v[:, cols])
            x = norm(linear(np.concatenate(ctx, -1), f"{p}.attention.output.dense") + x,
                     f"{p}.attention.output.LayerNorm")
            inner = linear(x, f"{p}.intermediate.dense")
            inner = 0.5 * inner * (1 + np.vectorize(erf)(inner / np.sqrt(2)))
            x = norm(linear(inner, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
        mean = x.mean(0)
        out.append(mean / np.linalg.norm(mean))
    return np.stack(out).astype(np.float32)


def test_graph_computes_bert_mean_pooling_with_padding() -> None:
    import onnxruntime as ort

    state = random_state()
    model = build_graph(state, CONFIG)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    embeds = rng.normal(0, 1, (3, 7, CONFIG["hidden_size"])).astype(np.float32)
    mask = np.ones((3, 7), dtype=np.float32)
    mask[1, 4:] = 0  # padded sentences must not see their padding
    mask[2, 2:] = 0
    actual = session.run(["sentence_embedding"], {"inputs_embeds": embeds, "attention_mask": mask})[0]
    np.testing.assert_allclose(actual, reference(state, embeds, mask), atol=1e-5)
    alone = session.run(["sentence_embedding"], {"inputs_embeds": embeds[1:2, :4], "attention_mask": mask[1:2, :4]})
    np.testing.assert_allclose(alone[0][0], actual[1], atol=1e-5)  # batching does not change a vector


def test_graph_rejects_heads_that_do_not_divide_the_width() -> None:
    with pytest.raises(ValueError, match="not divisible"):
        build_graph(random_state(), {**CONFIG, "num_attention_heads": 3})


def test_q4_rows_dequantise_blocks() -> None:
    qs = np.zeros((2, 1, 16), dtype=np.uint8)
    qs[1, 0, 0] = 0x9F  # low nibble 15 -> +7, high nibble 9 -> +1
    scales = np.array([[1.0], [0.5]], dtype=np.float16)
    rows = Q4Rows(qs, scales).lookup(np.array([[1, 0]]))
    assert rows.shape == (1, 2, 32)
    assert rows[0, 0, 0] == 3.5 and rows[0, 0, 16] == 0.5 and rows[0, 0, 1] == -4.0
    assert rows[0, 1, 0] == -8.0
    with pytest.raises(ValueError, match="do not fit"):
        Q4Rows(qs, scales[:1])
