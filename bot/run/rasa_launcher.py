"""Start Rasa's command line (``python -m bot.run.rasa_launcher run ...``) without the training stack.

TensorFlow 2.12 tries ``from jax import xla_computation`` for TFLite conversion and
falls back when the import fails. Rasa never converts to TFLite, yet importing JAX
costs the bot ~65 MB of memory and 0.3 s of start-up; spaCy's thinc imports torch when it is
installed (~400 MB). Marking them unavailable (:mod:`bot.run.lean_imports`) makes both take
their own fallbacks.
"""

from __future__ import annotations

from bot.run import lean_imports, rasa_speedups


def main() -> None:
    """Run ``rasa`` with the given arguments."""
    lean_imports.keep_out()
    from rasa.__main__ import main as rasa_main

    from bot.privacy.log_filter import install_redacting_filter

    install_redacting_filter()  # personal data never reaches Rasa's logs
    rasa_speedups.install()

    rasa_main()


if __name__ == "__main__":
    main()
