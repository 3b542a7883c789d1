"""Start Rasa's command line (``python -m bot.run.rasa_launcher run ...``) without the training stack.

TensorFlow 2.12 tries ``from jax import xla_computation`` for TFLite conversion and
falls back when the import fails. Rasa never converts to TFLite, yet importing JAX
costs the bot ~65 MB of memory and 0.3 s of start-up; spaCy's thinc imports torch when it is
installed (~400 MB). Marking them unavailable (:mod:`bot.run.lean_imports`) makes both take
their own fallbacks.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, List

from bot.run import lean_imports, rasa_speedups, strict_trackers


def main() -> None:
    """Run ``rasa`` with the given arguments."""
    lean_imports.keep_out()
    from rasa.__main__ import main as rasa_main

    from bot.privacy.log_filter import install_redacting_filter

    install_redacting_filter()  # personal data never reaches Rasa's logs
    rasa_speedups.install()
    strict_trackers.install()  # a tracker store error fails the message, never a silent in-memory fallback
    _log_format_after_rasas_own()
    _serve_metrics(sys.argv[1:])

    rasa_main()


def metrics_port(argv: List[str], offset: int) -> int:
    """The metrics port of a serving Rasa process (``rasa run``): its ``--port`` (default 5005) + ``offset``.

    Returns:
        0 (no metrics) for other commands (train, shell, validate) and for ``offset`` 0.
    """
    if not argv or argv[0] != "run" or offset == 0:
        return 0
    port = 5005
    for flag, value in zip(argv, argv[1:], strict=False):
        if flag in ("--port", "-p") and value.isdigit():
            port = int(value)
    return port + offset if port + offset <= 65535 else 0


def _serve_metrics(argv: List[str]) -> None:
    """Start the metrics server of a serving Rasa process on the internal host (retrieval time, process memory)."""
    from bot.config.settings import get_settings
    from bot.metrics import start_server_once

    settings = get_settings()
    port = metrics_port(argv, settings.metrics_port_offset_rasa)
    if port:
        start_server_once(settings.internal_host, port)


def _log_format_after_rasas_own() -> None:
    """Apply ``AUSKUNFT_LOG_FORMAT`` each time Rasa configured its logging (which would replace ours).

    Rasa's ``main`` sets up logging twice: ``configure_logging_and_warnings``, then coloured console logging for
    the command; ours follows each.
    """
    import rasa.__main__ as rasa_cli
    import rasa.utils.io as rasa_io

    from bot.config.settings import get_settings
    from bot.run.log_format import configure_logging

    def then_ours(rasas_own: Callable[..., Any]) -> Callable[..., Any]:
        def configure(*args: Any, **kwargs: Any) -> Any:
            result = rasas_own(*args, **kwargs)
            configure_logging(get_settings().log_format, "rasa")
            return result

        return configure

    rasa_cli.configure_logging_and_warnings = then_ours(rasa_cli.configure_logging_and_warnings)
    rasa_io.configure_colored_logging = then_ours(rasa_io.configure_colored_logging)


if __name__ == "__main__":
    main()
