"""Keep personal data out of log files: every log record's text goes through :func:`redact`.

:func:`install_redacting_filter` wraps the process-wide log record factory
(:func:`logging.setLogRecordFactory`), so every record that any logger creates - loggers and
handlers configured before or after the call, third-party libraries, loggers that do not
propagate - is redacted once, when it is made, before any handler or formatter sees it. It also
attaches :class:`RedactingFilter` to the handlers of the given logger (the root logger by
default), which covers records that were not made by the factory, such as those rebuilt with
:func:`logging.makeLogRecord` and passed to ``handler.handle``.

What is redacted: the message with its arguments filled in (``record.msg`` becomes the redacted
text, ``record.args`` is emptied), the formatted traceback (``record.exc_text``; ``exc_info`` is
dropped so no formatter prints the raw exception again) and ``record.stack_info``. Fields passed
with ``extra=`` are not touched.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional

from bot.privacy.redact import redact

_MARK = "_auskunft_redacted_msg"
_FACTORY_MARK = "_auskunft_redacting_factory"
_traceback_formatter = logging.Formatter()


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact one record in place (once; a record already redacted is left as it is).

    Args:
        record: The log record.

    Returns:
        The same record, its message rendered and redacted, its arguments cleared.
    """
    if getattr(record, _MARK, None) is record.msg and not record.args:
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not lose the record, nor leak its arguments
        message = f"{record.msg} {record.args!r}"
    record.msg = redact(message)
    record.args = ()
    if record.exc_info:
        if not record.exc_text:
            record.exc_text = _traceback_formatter.formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    setattr(record, _MARK, record.msg)
    return record


class RedactingFilter(logging.Filter):
    """A filter that redacts personal data in every record it sees and lets it pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place.

        Args:
            record: The log record.

        Returns:
            Always ``True``: nothing is dropped.
        """
        redact_record(record)
        return True


def _redacting_factory(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """Wrap a record factory so that every record it makes is redacted."""

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(factory(*args, **kwargs))

    setattr(make, _FACTORY_MARK, factory)
    return make


def install_redacting_filter(logger: Optional[logging.Logger] = None) -> None:
    """Redact personal data in every log record of this process from now on.

    Safe to call more than once: the record factory is wrapped once, and a handler gets the
    filter once.

    Args:
        logger: Whose handlers also get a :class:`RedactingFilter`; the root logger if ``None``.
    """
    factory = logging.getLogRecordFactory()
    if not hasattr(factory, _FACTORY_MARK):
        logging.setLogRecordFactory(_redacting_factory(factory))
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(RedactingFilter())


def remove_redacting_filter(logger: Optional[logging.Logger] = None) -> None:
    """Undo :func:`install_redacting_filter` (for tests).

    Args:
        logger: Whose handlers lose their :class:`RedactingFilter`; the root logger if ``None``.
    """
    factory = logging.getLogRecordFactory()
    original = getattr(factory, _FACTORY_MARK, None)
    if original is not None:
        logging.setLogRecordFactory(original)
    for handler in (logger or logging.getLogger()).handlers:
        for existing in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(existing)
