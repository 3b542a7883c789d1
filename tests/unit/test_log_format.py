"""AUSKUNFT_LOG_FORMAT=json: one redacted JSON object per line on stdout, whatever logger wrote the record."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from bot.config.settings import Settings
from bot.privacy.log_filter import RedactingFilter
from bot.run.log_format import JsonFormatter, JsonHandler, configure_logging

FRAMEWORK = "test_log_format.uvicorn.error"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put the root logger and the test's loggers back as they were (handlers, level, propagation)."""
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    framework = logging.getLogger(FRAMEWORK)
    yield
    for handler in [h for h in root.handlers if h not in saved[0]]:
        root.removeHandler(handler)
    for handler in saved[0]:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(saved[1])
    framework.handlers.clear()
    framework.propagate = True


def lines(text: str) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_lines_carry_time_level_logger_message_and_service(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "web")
    logging.getLogger("auskunft.test").info("Frage von %s, Telefon %s", "max@example.org", "0171 2345678")
    [line] = lines(capsys.readouterr().out)
    assert set(line) == {"time", "level", "logger", "message", "service"}
    assert line["level"] == "INFO" and line["logger"] == "auskunft.test" and line["service"] == "web"
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert "max@example.org" not in line["message"] and "[E-MAIL]" in line["message"]
    assert "2345678" not in line["message"]


def test_framework_console_handlers_give_way_to_the_json_handler(capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    framework = logging.getLogger(FRAMEWORK)
    framework.addHandler(logging.StreamHandler())  # like uvicorn's: on stderr, not propagating
    file_handler = logging.FileHandler(tmp_path / "actions.log")
    framework.addHandler(file_handler)
    framework.propagate = False
    configure_logging("json", "actions")
    configure_logging("json", "actions")  # a second call changes nothing
    framework.warning("Antwort an erika.mustermann@example.org")
    captured = capsys.readouterr()
    [line] = lines(captured.out)
    assert line["logger"] == FRAMEWORK and line["level"] == "WARNING" and "[E-MAIL]" in line["message"]
    assert captured.err == ""
    assert framework.propagate and framework.handlers == [file_handler]  # the log file stays
    assert sum(isinstance(h, JsonHandler) for h in logging.getLogger().handlers) == 1
    file_handler.close()
    assert "erika" not in (tmp_path / "actions.log").read_text()


def test_tracebacks_are_redacted_too() -> None:
    logger = logging.getLogger("auskunft.test.exc")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("rasa"))
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("bad address max@example.org")
        except ValueError:
            logger.exception("delivery failed")
    finally:
        logger.removeHandler(handler)
    [line] = lines(stream.getvalue())
    assert "ValueError" in line["exception"] and "max@example.org" not in line["exception"]
    assert line["service"] == "rasa" and line["level"] == "ERROR"


def test_text_keeps_the_handlers_and_an_unknown_format_says_what_to_set() -> None:
    before = list(logging.getLogger().handlers)
    configure_logging("text", "web")
    assert logging.getLogger().handlers == before
    with pytest.raises(ValueError, match="AUSKUNFT_LOG_FORMAT must be one of text, json"):
        configure_logging("xml", "web")


def test_the_setting_is_checked() -> None:
    assert Settings().log_format == "text"
    assert Settings(log_format="json").log_format == "json"
    with pytest.raises(ValueError):
        Settings(log_format="yaml")


def test_the_web_app_logs_json_when_told(tmp_path: Path) -> None:
    from bot.web.app import create_app
    from bot.web.deps import services_of

    app = create_app(Settings(home=tmp_path / "home", log_format="json",
                              database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}"))
    services_of(app).close()
    [handler] = [h for h in logging.getLogger().handlers if isinstance(h, JsonHandler)]
    assert isinstance(handler.formatter, JsonFormatter) and handler.formatter.service == "web"
