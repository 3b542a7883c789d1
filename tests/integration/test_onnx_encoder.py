"""The serving encoder (ONNX Runtime) against sentence-transformers on the real provisioned model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.config.settings import PROJECT_ROOT, Settings
from bot.embedding.encoder import load_encoder
from bot.embedding.onnx_encoder import OnnxEncoder
from bot.embedding.provision import EXPECTED_ONNX, MANIFEST, sha256_file
from bot.embedding.st_encoder import Encoder
from bot.evaluation.report import evaluate
from bot.kb import load_kb

pytestmark = pytest.mark.slow
ROOT = PROJECT_ROOT


@pytest.fixture(scope="module")
def phrasings() -> list[str]:
    kb = load_kb(ROOT / "kb")
    texts = [text for entry in kb.entries for text in [entry.title, *entry.questions]]
    return texts[:200] + ["hallo", "jjjjjj", "Привет", "Wie spät ist es in Tokio? " * 40]  # incl. truncation


def test_provisioned_graphs_match_their_pinned_checksums(real_model: Path) -> None:
    manifest = json.loads((real_model / MANIFEST).read_text())
    assert manifest["onnx"] == EXPECTED_ONNX
    assert sha256_file(real_model / "onnx" / "encoder.onnx") == EXPECTED_ONNX["fp32"]


def test_fp32_graph_gives_the_vectors_of_sentence_transformers(real_model: Path, phrasings: list[str]) -> None:
    reference = Encoder(str(real_model))
    served = OnnxEncoder(str(real_model))
    for passage in (False, True):
        expected, actual = reference.encode(phrasings, passage=passage), served.encode(phrasings, passage=passage)
        assert actual.shape == expected.shape
        assert float(np.abs(actual - expected).max()) < 1e-4
        assert float((actual * expected).sum(axis=1).min()) > 0.99999
    assert served.fingerprint == reference.fingerprint  # cached kb vectors stay valid across the two
    np.testing.assert_allclose(served.encode_one(phrasings[0]), served.encode([phrasings[0]])[0], atol=1e-6)


def test_int8_graph_stays_close_and_has_its_own_fingerprint(real_model: Path, phrasings: list[str]) -> None:
    reference = OnnxEncoder(str(real_model))
    quantised = OnnxEncoder(str(real_model), precision="int8")
    similarity = (reference.encode(phrasings) * quantised.encode(phrasings)).sum(axis=1)
    assert float(np.median(similarity)) > 0.98 and float(similarity.min()) > 0.95  # measured: 0.989 and 0.978
    assert quantised.fingerprint != reference.fingerprint


def test_top1_on_the_sample_kb_is_the_same_as_with_sentence_transformers(real_model: Path) -> None:
    settings = Settings()
    tops = {}
    for backend in ("sentence-transformers", "onnx"):
        encoder = load_encoder(str(real_model), backend=backend)
        report, _ranked, _config = evaluate(ROOT / "kb", ROOT / "tests/data/sample_kb_test.jsonl", encoder,
                                            settings.decision_config(), baselines=[])
        tops[backend] = float(report["top1"])  # type: ignore[arg-type]
    assert tops["onnx"] > 0.9
    assert abs(tops["onnx"] - tops["sentence-transformers"]) <= 0.005, tops


def test_a_serving_process_answers_without_importing_torch(real_model: Path, tmp_path: Path) -> None:
    """Build and publish an index and search it the way the bot does, in a fresh interpreter."""
    script = f"""
import json, sys
from pathlib import Path
from bot.config.settings import Settings
from bot.publish.each_agency import publish_each
from bot.retrieval import assembly
settings = Settings(home=Path({str(tmp_path)!r}), embedding_model={str(real_model)!r})
encoder = assembly.query_encoder(settings)
agencies = settings.agencies()
publish_each(settings, list(agencies), encoder)
hits = assembly.searcher(settings, agencies.default).search("Wie beantrage ich einen Personalausweis?").candidates
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'sentence_transformers', 'transformers'))
print(json.dumps({{"encoder": type(encoder).__name__, "top": hits[0].faq_id, "heavy": heavy}}))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "TOKENIZERS_PARALLELISM": "false"})
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["encoder"] == "OnnxEncoder"
    assert result["heavy"] == []
    assert "ausweis" in result["top"].lower()
