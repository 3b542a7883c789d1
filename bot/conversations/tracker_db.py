"""Rasa's SQL tracker store opened read-only from ``endpoints.yml``: for the editors' reports and the ticket transcript.

The connection is built exactly as :class:`bot.conversations.erase.TrackerEraser` builds it; nothing is written, and
a SQLite file that does not exist yet is not created.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from bot.conversations.erase import expand_variables, sql_engine, tracker_store_config
from bot.conversations.store_types import is_sql_store
from bot.errors import AuskunftError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


class NotSqlStore(AuskunftError):
    """The tracker store configured in ``endpoints.yml`` is not SQL (``kind`` names it)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"the tracker store is {kind!r}, not SQL")
        self.kind = kind


class NoDatabaseYet(AuskunftError):
    """The SQLite tracker store's file does not exist yet (Rasa has stored nothing)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"the tracker database {path} does not exist yet")
        self.path = path


def sql_tracker_engine(endpoints_path: Path, environ: Mapping[str, str]) -> "Engine":
    """The engine of Rasa's SQL tracker store as ``endpoints.yml`` configures it (read only; nothing is created).

    Raises:
        NotSqlStore: the tracker store is not SQL.
        NoDatabaseYet: its SQLite file does not exist yet (connecting would create an empty one).
        EraseUnsupported: an in-memory SQLite database or an unsupported dialect.
        OSError, ValueError, yaml.YAMLError: the file cannot be read, or a variable it uses is not set.
    """
    kind, config = tracker_store_config(endpoints_path, environ)
    if not is_sql_store(kind):
        raise NotSqlStore(kind)
    engine = sql_engine(expand_variables(config, environ, endpoints_path), environ)
    if engine.url.get_backend_name() == "sqlite" and not Path(str(engine.url.database)).is_file():
        engine.dispose()
        raise NoDatabaseYet(str(engine.url.database))
    return engine
