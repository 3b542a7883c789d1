"""The real embedding model, provisioned once per test session (offline, checksummed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config.settings import Settings
from bot.embedding.provision import provision


@pytest.fixture(scope="session")
def real_model() -> Path:
    """The default model directory (created by the same code as 'auskunft model provision')."""
    return provision(Settings().default_model_dir)
