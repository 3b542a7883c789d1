"""The services' log format: ``AUSKUNFT_LOG_FORMAT=text`` (as configured so far) or ``json`` (one object per line).

``json`` writes every record of the process as one JSON object per line to stdout, with ``time`` (UTC, ISO 8601),
``level``, ``logger``, ``message`` and ``service`` (``web``, ``rasa``, ``actions``, ``watcher``, ...), plus
``exception`` when a traceback was logged. Log collectors (journald, Loki, Kubernetes) take it as it is.

Redaction still applies: :func:`configure_logging` installs :func:`bot.privacy.log_filter.install_redacting_filter`
first, the JSON handler carries a :class:`~bot.privacy.log_filter.RedactingFilter`, and the formatter redacts the
record again (once; a redacted record is left as it is), so no personal data reaches the JSON either.

The handlers that frameworks attach to the console (uvicorn's, rasa-sdk's coloured one, Rasa's) are removed and
their loggers propagate to the one JSON handler on the root logger; handlers writing anywhere else (a log file,
pytest's capture) are kept.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any, Dict, List

from bot.privacy.log_filter import RedactingFilter, install_redacting_filter, redact_record

FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON (redacted).

    Args:
        service: the service's name, in every line.
    """

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object on one line."""
        redact_record(record)
        data: Dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
        }
        if record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = record.stack_info
        return json.dumps(data, ensure_ascii=False, default=str)


class JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler of ``json`` mode: stdout, JSON lines, redacting."""


def _console(handler: logging.Handler) -> bool:
    """Whether ``handler`` writes to the console (stdout or stderr), not to a file or a buffer."""
    if isinstance(handler, (logging.FileHandler, JsonHandler)) or not isinstance(handler, logging.StreamHandler):
        return False
    return getattr(handler, "stream", None) in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)


def configure_logging(log_format: str, service: str, level: int = logging.INFO) -> None:
    """Set the process's log format; safe to call more than once (and after a framework set up its own logging).

    Args:
        log_format: ``text`` (keep the console handlers as they are) or ``json``.
        service: the service's name, written in every JSON line.
        level: the root logger's level in ``json`` mode when it was less verbose (INFO by default).

    Raises:
        ValueError: an unknown format (names the choices).
    """
    if log_format not in FORMATS:
        raise ValueError(f"AUSKUNFT_LOG_FORMAT must be one of {', '.join(FORMATS)}, got {log_format!r}")
    install_redacting_filter()
    if log_format == "text":
        return
    root = logging.getLogger()
    loggers: List[logging.Logger] = [root] + [logger for logger in logging.root.manager.loggerDict.values()
                                              if isinstance(logger, logging.Logger)]
    for logger in loggers:
        console = [handler for handler in logger.handlers if _console(handler)]
        for handler in console:
            logger.removeHandler(handler)
        if console and logger is not root:
            logger.propagate = True
    mine = [handler for handler in root.handlers if isinstance(handler, JsonHandler)]
    if mine:
        mine[0].setFormatter(JsonFormatter(service))
    else:
        handler = JsonHandler(sys.stdout)
        handler.setFormatter(JsonFormatter(service))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
