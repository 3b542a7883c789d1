"""Write a BERT sentence encoder as an ONNX graph, from its weights alone (no torch).

The graph takes the looked-up word embeddings (``inputs_embeds``, float32 [batch, tokens,
hidden]) and the ``attention_mask`` (float32 [batch, tokens]) and returns the mean-pooled,
L2-normalised sentence vectors (float32 [batch, hidden]): exactly what sentence-transformers
computes for the models this project provisions or fine-tunes (``BertModel`` + mean pooling +
``Normalize``). The word-embedding lookup stays outside the graph, over the 4-bit blocks
(:mod:`bot.embedding.q4_rows`), so the 257 MB float32 table is never loaded.

``quantize`` writes an int8 copy (dynamic quantisation of the matrix multiplications).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List

import numpy as np

if TYPE_CHECKING:
    from onnx import ModelProto, NodeProto, TensorProto

ONNX_DIR = "onnx"
FP32_FILE = "encoder.onnx"
INT8_FILE = "encoder-int8.onnx"
OPSET = 17
_NEG = -1e9


class _Graph:
    """A tiny builder: named nodes and initialisers, unique names by counter."""

    def __init__(self) -> None:
        from onnx import helper

        self.helper = helper
        self.nodes: List[NodeProto] = []
        self.inits: List[TensorProto] = []
        self.count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name=name))
        return name

    def op(self, kind: str, inputs: List[str], **attrs: Any) -> str:
        self.count += 1
        out = f"{kind.lower()}_{self.count}"
        self.nodes.append(self.helper.make_node(kind, inputs, [out], name=out, **attrs))
        return out


def _linear(g: _Graph, x: str, state: Dict[str, np.ndarray], prefix: str) -> str:
    weight = g.const(f"{prefix}.weight.T", state[f"{prefix}.weight"].T.astype(np.float32))
    bias = g.const(f"{prefix}.bias", state[f"{prefix}.bias"].astype(np.float32))
    return g.op("Add", [g.op("MatMul", [x, weight]), bias])


def _layer_norm(g: _Graph, x: str, state: Dict[str, np.ndarray], prefix: str, eps: float) -> str:
    scale = g.const(f"{prefix}.weight", state[f"{prefix}.weight"].astype(np.float32))
    bias = g.const(f"{prefix}.bias", state[f"{prefix}.bias"].astype(np.float32))
    return g.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=eps)


def build_graph(state: Dict[str, np.ndarray], config: Dict[str, Any]) -> ModelProto:
    """The ONNX model for a ``BertModel`` state dict (word embeddings not needed) and its ``config.json``.

    Raises:
        ValueError: the config's sizes do not fit the weights.
    """
    from onnx import TensorProto, checker, helper

    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    layers = int(config["num_hidden_layers"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    if hidden % heads:
        raise ValueError(f"hidden_size {hidden} is not divisible by num_attention_heads {heads}")
    head_dim = hidden // heads
    positions = state["embeddings.position_embeddings.weight"]
    if positions.shape[1] != hidden:
        raise ValueError(f"position embeddings have width {positions.shape[1]}, hidden_size is {hidden}")
    g = _Graph()
    # Token type 0 is the only one sentence-transformers uses: fold it into the position table.
    table = g.const("positions", (positions + state["embeddings.token_type_embeddings.weight"][0]).astype(np.float32))
    zero, one = g.const("i0", np.array([0], np.int64)), g.const("i1", np.array([1], np.int64))
    tokens = g.op("Slice", [g.op("Shape", ["inputs_embeds"]), one, g.const("i2", np.array([2], np.int64))])
    x = g.op("Add", ["inputs_embeds", g.op("Slice", [table, zero, tokens, zero])])
    x = _layer_norm(g, x, state, "embeddings.LayerNorm", eps)
    keep = g.op("Unsqueeze", ["attention_mask", g.const("axes12", np.array([1, 2], np.int64))])
    bias = g.op("Mul", [g.op("Sub", [g.const("f1", np.array(1.0, np.float32)), keep]),
                        g.const("neg", np.array(_NEG, np.float32))])
    split = g.const("split_heads", np.array([0, 0, heads, head_dim], np.int64))
    merge = g.const("merge_heads", np.array([0, 0, hidden], np.int64))
    scale = g.const("scale", np.array(1.0 / np.sqrt(head_dim), np.float32))
    half, root2 = g.const("half", np.array(0.5, np.float32)), g.const("root2", np.array(np.sqrt(2.0), np.float32))
    one_f = g.const("one", np.array(1.0, np.float32))
    for layer in range(layers):
        p = f"encoder.layer.{layer}"
        q = g.op("Transpose", [g.op("Reshape", [_linear(g, x, state, f"{p}.attention.self.query"), split])],
                 perm=[0, 2, 1, 3])
        k = g.op("Transpose", [g.op("Reshape", [_linear(g, x, state, f"{p}.attention.self.key"), split])],
                 perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [_linear(g, x, state, f"{p}.attention.self.value"), split])],
                 perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), bias])
        context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        context = g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]), merge])
        attended = _linear(g, context, state, f"{p}.attention.output.dense")
        x = _layer_norm(g, g.op("Add", [attended, x]), state, f"{p}.attention.output.LayerNorm", eps)
        inner = _linear(g, x, state, f"{p}.intermediate.dense")
        erf_plus_one = g.op("Add", [g.op("Erf", [g.op("Div", [inner, root2])]), one_f])
        inner = g.op("Mul", [g.op("Mul", [inner, half]), erf_plus_one])  # exact GELU
        out = _linear(g, inner, state, f"{p}.output.dense")
        x = _layer_norm(g, g.op("Add", [out, x]), state, f"{p}.output.LayerNorm", eps)
    mask = g.op("Unsqueeze", ["attention_mask", g.const("axis2", np.array([2], np.int64))])
    summed = g.op("ReduceSum", [g.op("Mul", [x, mask]), one], keepdims=0)
    counts = g.op("Max", [g.op("ReduceSum", [mask, one], keepdims=0), g.const("tiny", np.array(1e-9, np.float32))])
    mean = g.op("Div", [summed, counts])
    norm = g.op("Max", [g.op("ReduceL2", [mean], axes=[-1], keepdims=1),
                        g.const("eps_norm", np.array(1e-12, np.float32))])
    g.nodes.append(helper.make_node("Div", [mean, norm], ["sentence_embedding"], name="normalise"))
    graph = helper.make_graph(
        g.nodes, "auskunft-sentence-encoder",
        [helper.make_tensor_value_info("inputs_embeds", TensorProto.FLOAT, ["batch", "tokens", hidden]),
         helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "tokens"])],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hidden])],
        initializer=g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="auskunft")
    model.ir_version = 8  # readable by every onnxruntime since 1.10
    checker.check_model(model)
    return model


def read_bert_weights(model_dir: Path) -> Dict[str, np.ndarray]:
    """The ``BertModel`` weights of a sentence-transformers directory, without the word-embedding table."""
    from safetensors import safe_open

    state: Dict[str, np.ndarray] = {}
    with safe_open(str(model_dir / "model.safetensors"), framework="numpy") as handle:  # type: ignore[attr-defined]
        for name in handle.keys():
            key = name.removeprefix("bert.")
            if key != "embeddings.word_embeddings.weight" and not key.startswith("pooler."):
                state[key] = handle.get_tensor(name)
    return state


def export_onnx(model_dir: Path, quantize: bool = True) -> Dict[str, Path]:
    """Write ``onnx/encoder.onnx`` (and ``onnx/encoder-int8.onnx``) into a sentence-transformers directory.

    Returns:
        The written files by kind (``fp32``, ``int8``).
    """
    import onnx

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    model = build_graph(read_bert_weights(model_dir), config)
    target = model_dir / ONNX_DIR
    target.mkdir(exist_ok=True)
    written = {"fp32": target / FP32_FILE}
    onnx.save(model, str(written["fp32"]))
    if quantize:
        written["int8"] = target / INT8_FILE
        quantize_int8(written["fp32"], written["int8"])
    return written


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the matrix multiplications (weights int8, activations per call)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])
