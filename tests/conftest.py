"""Shared fixtures: a tiny deterministic encoder for fast offline unit tests, and isolated settings."""

from __future__ import annotations

import gc
import hashlib
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np
import pytest

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Freeze the heap once every test has run, so that exiting takes seconds.

    After the summary, pytest's unraisable-exception plugin calls ``gc.collect()`` five times. In the
    full suite the process holds several GB of models, indexes and fuzzing data, and those collections
    took many minutes of CPU in CI before the process could exit. Nothing is left to find by then.
    """
    gc.freeze()


class HashEncoder:
    """Bag-of-words hashing vectors: texts sharing words are similar. Fast, offline, deterministic.

    Used only by unit tests of code around the model (index, store, actions); the real
    model is exercised by the integration and end-to-end tests.
    """

    fingerprint = "hash-encoder-test"
    dim = 256

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False,
               passage: bool = False) -> np.ndarray:
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id at a tiny cost in every test (about 1 ms, not 100); ``test_passwords.py`` checks the real cost."""
    from bot.staff import passwords

    monkeypatch.setattr(passwords, "MEMORY_KIB", 256)
    monkeypatch.setattr(passwords, "TIME_COST", 1)


@pytest.fixture
def encoder() -> HashEncoder:
    return HashEncoder()


@pytest.fixture
def mini_kb(tmp_path: Path) -> Path:
    """A copy of the small valid kb fixture, safe to edit."""
    target = tmp_path / "kb"
    shutil.copytree(Path(__file__).parent / "fixtures" / "mini_kb", target)
    return target


@pytest.fixture
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mini_kb: Path) -> Iterator[Path]:
    """Point every AUSKUNFT_* setting at a temporary home; returns the home."""
    from bot.config.settings import get_settings

    home = tmp_path / "home"
    monkeypatch.setenv("AUSKUNFT_HOME", str(home))
    monkeypatch.setenv("AUSKUNFT_KB_DIR", str(mini_kb))
    monkeypatch.setenv("AUSKUNFT_API_TOKEN", "test-token-1234567890-abcdefghijklmn")
    # The hashing test encoder makes calibration meaningless; these tests are about the fixed thresholds.
    monkeypatch.setenv("AUSKUNFT_THRESHOLDS", "fixed")
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def session(tmp_path: Path) -> Iterator["Session"]:
    """A session on a fresh SQLite ticket database (tickets, feedback, agents) in ``tmp_path``."""
    from bot.db.engine import make_engine, session_factory

    engine = make_engine(f"sqlite:///{tmp_path / 'tickets.sqlite3'}")
    with session_factory(engine)() as db:
        yield db
    engine.dispose()
