"""Fine-tuning asked for in a serving-only install: a clear message and exit code, no traceback."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bot import cli


def test_fine_tuning_without_the_training_packages_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sentence_transformers" else real_find_spec(name, *a))
    model = tmp_path / "model"  # an ONNX encoder loads its weights only when it embeds: never here
    (model / "onnx").mkdir(parents=True)
    (model / "onnx" / "encoder.onnx").write_bytes(b"")
    (model / "config.json").write_text('{"hidden_size": 8}')
    monkeypatch.setenv("AUSKUNFT_HOME", str(tmp_path))
    monkeypatch.setenv("AUSKUNFT_EMBEDDING_MODEL", str(model))
    monkeypatch.setenv("AUSKUNFT_FINETUNE_EPOCHS", "1")
    from bot.config.settings import get_settings

    get_settings.cache_clear()
    try:
        code = cli.main(["kb", "build"])
    finally:
        get_settings.cache_clear()
    assert code == 2
    err = capsys.readouterr().err
    assert "make setup-dev" in err and "Traceback" not in err
