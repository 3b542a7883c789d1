"""requirements.lock is exactly what serving needs; requirements-dev.lock holds the rest (.ci/locks.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def locks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("auskunft_locks", ROOT / ".ci" / "locks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _copy_locks(locks: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    serving, dev = tmp_path / "requirements.lock", tmp_path / "requirements-dev.lock"
    serving.write_text(locks.SERVING_LOCK.read_text(encoding="utf-8"), encoding="utf-8")
    dev.write_text(locks.DEV_LOCK.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(locks, "SERVING_LOCK", serving)
    monkeypatch.setattr(locks, "DEV_LOCK", dev)
    return serving, dev


def _without(text: str, prefix: str) -> str:
    """The lock text without the pin starting with ``prefix`` and its hash lines."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith(prefix):
            skipping = True
        elif not line.startswith("    --hash"):
            skipping = False
        if not skipping:
            kept.append(line)
    return "".join(kept)


def test_the_lock_files_agree_with_pyproject_and_the_environment(locks: ModuleType) -> None:
    assert locks.problems() == []


def test_serving_lock_has_no_training_or_test_packages(locks: ModuleType) -> None:
    serving = set(locks.read_lock(locks.SERVING_LOCK))
    assert {"onnxruntime", "onnx", "tokenizers", "rasa", "fastapi", "uvicorn", "uvloop", "spacy"} <= serving
    assert not serving & {"torch", "sentence-transformers", "transformers", "triton", "jax", "jaxlib",
                          "pytest", "ruff", "mypy", "playwright", "mkdocs"}
    assert not any(name.startswith(("nvidia-", "cuda-")) for name in serving)


def test_torch_in_the_serving_lock_is_found(locks: ModuleType, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    serving, dev = _copy_locks(locks, tmp_path, monkeypatch)
    torch = next(line for line in dev.read_text().splitlines() if line.startswith("torch=="))
    serving.write_text(serving.read_text() + torch + "\n")
    found = locks.problems()
    assert any("requirements.lock holds torch" in problem for problem in found), found


def test_a_missing_serving_package_is_found(locks: ModuleType, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    serving, _ = _copy_locks(locks, tmp_path, monkeypatch)
    serving.write_text(_without(serving.read_text(), "onnxruntime=="))
    assert "serving needs onnxruntime but requirements.lock lacks it" in locks.problems()


def test_every_pin_carries_hashes(locks: ModuleType) -> None:
    for path in (locks.SERVING_LOCK, locks.DEV_LOCK):
        hashes = locks.read_hashes(path)
        assert hashes and all(len(h) == 64 for values in hashes.values() for h in values)
        assert not [name for name, values in hashes.items() if not values], path.name


def test_a_pin_without_hashes_is_found(locks: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serving, _ = _copy_locks(locks, tmp_path, monkeypatch)
    text = serving.read_text()
    start = text.index("\nfastapi==") + 1
    end = text.index("\n", start)
    pin = text[start:end].split()[0]
    rest = text[end + 1:]
    while rest.startswith("    --hash"):
        rest = rest[rest.index("\n") + 1:]
    serving.write_text(text[:start] + pin + "\n" + rest)
    assert locks.read_lock(serving)["fastapi"] == pin
    assert f"requirements.lock pins {pin} without a hash (pip could not check the file)" in locks.problems()
