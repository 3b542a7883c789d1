"""Start Rasa's command line (``python -m bot.run.rasa_launcher run ...``) without TensorFlow's JAX bridge.

TensorFlow 2.12 tries ``from jax import xla_computation`` for TFLite conversion and
falls back when the import fails. Rasa never converts to TFLite, yet importing JAX
costs the bot ~65 MB of memory and 0.3 s of start-up; marking it unavailable makes
TensorFlow take its own fallback.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run ``rasa`` with the given arguments."""
    sys.modules.setdefault("jax", None)  # type: ignore[arg-type]  # import jax -> ImportError
    from rasa.__main__ import main as rasa_main

    from bot.privacy.log_filter import install_redacting_filter

    install_redacting_filter()  # personal data never reaches Rasa's logs

    rasa_main()


if __name__ == "__main__":
    main()
