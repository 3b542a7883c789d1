"""The messages of a conversation's earlier Rasa sessions, read from the SQL tracker store (for the ticket).

Rasa hands the action server only the current session's events; a long conversation is split into sessions
(:mod:`bot.conversations.compaction`, and Rasa's own after an hour of silence), so a ticket's transcript reads
the earlier ones here, from the ``events`` table configured in ``endpoints.yml``. No Rasa import.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Mapping

import yaml
from sqlalchemy.exc import SQLAlchemyError

from bot.conversations.tracker_db import NoDatabaseYet, NotSqlStore, sql_tracker_engine
from bot.errors import AuskunftError

logger = logging.getLogger(__name__)


class HistoryUnavailable(AuskunftError):
    """The tracker store's earlier sessions cannot be read (the message says why and where)."""


def earlier_messages(sender_id: str, before: float, limit: int, endpoints_path: Path,
                     environ: Mapping[str, str]) -> List[Dict[str, Any]]:
    """The newest ``limit`` user and bot events of ``sender_id`` stored before ``before``, oldest first.

    Args:
        sender_id: The conversation.
        before: A Unix time: the timestamp of the first event the action server was given.
        limit: At most this many events (the newest ones).
        endpoints_path: The endpoints file Rasa runs with.
        environ: Values for ``${VAR}`` in its ``tracker_store`` section.

    Returns:
        The events as Rasa stores them (dicts with ``event``, ``text``, ``timestamp``, ``parse_data``); [] if the
        tracker store is not SQL (its earlier sessions cannot be read here) or its SQLite file does not exist yet.

    Raises:
        HistoryUnavailable: ``endpoints_path`` cannot be read, a variable it uses is not set, the SQL dialect is
            unsupported or the database cannot be read.
    """
    try:
        rows = _rows(sender_id, before, limit, Path(endpoints_path), environ)
    except (OSError, ValueError, yaml.YAMLError, SQLAlchemyError) as err:  # EraseUnsupported is a ValueError
        raise HistoryUnavailable(f"cannot read the earlier sessions from the tracker store of {endpoints_path} "
                                 f"({type(err).__name__}: {err}); check its tracker_store section and the "
                                 "variables it uses") from err
    events = []
    for raw in rows:
        try:
            data = json.loads(raw)
        except (TypeError, ValueError):
            continue
        if isinstance(data, dict):
            events.append(data)
    return events


def _rows(sender_id: str, before: float, limit: int, endpoints_path: Path, environ: Mapping[str, str]) -> List[Any]:
    """The ``data`` column of the wanted events, oldest first; [] for a store that is not SQL or not there yet."""
    import sqlalchemy as sa

    if limit <= 0:
        return []
    try:
        engine = sql_tracker_engine(endpoints_path, environ)
    except (NotSqlStore, NoDatabaseYet) as reason:
        logger.debug("Earlier sessions are not read: %s.", reason)
        return []
    try:
        query = sa.text("SELECT data FROM events WHERE sender_id = :sender_id AND type_name IN ('user', 'bot') "
                        "AND timestamp < :before ORDER BY id DESC LIMIT :limit")
        with engine.connect() as connection:
            rows = connection.execute(query, {"sender_id": sender_id, "before": before, "limit": limit}).fetchall()
    finally:
        engine.dispose()
    return [row[0] for row in reversed(rows)]
