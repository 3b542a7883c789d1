"""Keep the training stack out of serving processes, even in an install that has it.

spaCy's ``thinc`` imports torch whenever it is installed, and TensorFlow imports JAX: in the
development install (``make setup-dev``) that put ~400 MB of CUDA and torch libraries into the
Rasa process, which needs neither. Serving processes mark these packages unavailable before
anything imports them; the libraries fall back exactly as in the lean serving install.
"""

from __future__ import annotations

import runpy
import sys
from typing import Iterable

from bot.run import import_guard

TRAINING_ONLY = ("torch", "jax", "sentence_transformers")


def needs_training_stack() -> bool:
    """Whether the settings ask for torch at run time (sentence-transformers encoder, fine-tuning on kb builds)."""
    from bot.config.settings import get_settings

    settings = get_settings()
    return settings.encoder == "sentence-transformers" or settings.finetune_epochs > 0


def block(packages: Iterable[str] = TRAINING_ONLY) -> None:
    """Make ``import <package>`` raise ImportError in this process (only where nothing imported it yet)."""
    for name in packages:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def keep_out() -> None:
    """Block what this process will not need: JAX always; torch and sentence-transformers unless settings use them.

    Also guards the model packages: none of their code is imported before their files are checked
    (:mod:`bot.run.import_guard`).
    """
    import_guard.install()
    block(["jax"] if needs_training_stack() else TRAINING_ONLY)


def main() -> None:
    """``python -m bot.run.lean_imports <module> [args...]``: run a module as ``__main__``, training stack blocked."""
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m bot.run.lean_imports <module> [args...]")
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    keep_out()
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
