"""Rasa's SQL tracker store without Rasa: its ``events`` table filled with conversations, and an ``endpoints.yml``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

# The table SQLTrackerStore (Rasa 3.6) creates: rasa.core.tracker_store.SQLTrackerStore.SQLEvent.
EVENTS_SCHEMA = """
CREATE TABLE events (
    id INTEGER NOT NULL PRIMARY KEY,
    sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT,
    intent_name VARCHAR(255),
    action_name VARCHAR(255),
    data TEXT
);
CREATE INDEX ix_events_sender_id ON events (sender_id);
"""

# An endpoints.yml whose tracker store is the SQLite file named by ${TRACKER_DB}.
SQLITE_ENDPOINTS = """
action_endpoint:
  url: ${UNSET_ACTION_URL}
tracker_store:
  type: SQL
  dialect: "sqlite"
  db: ${TRACKER_DB}
"""


def write_endpoints(tmp_path: Path, text: str) -> Path:
    """Write ``text`` to ``tmp_path/endpoints.yml`` and return the path."""
    path = tmp_path / "endpoints.yml"
    path.write_text(text, encoding="utf-8")
    return path


def tracker_db(path: Path, conversations: dict[str, list[str]], wal: bool = False, start: float = 1700000000.0) -> Path:
    """Create a tracker database at ``path``: per sender, each text as a user event plus an ``action_listen``."""
    with sqlite3.connect(path) as db:
        if wal:
            db.execute("PRAGMA journal_mode=WAL")
        db.executescript(EVENTS_SCHEMA)
        for sender, texts in conversations.items():
            for offset, text in enumerate(texts):
                data = {"event": "user", "timestamp": start + offset, "text": text}
                db.execute("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                           "VALUES (?, 'user', ?, 'faq', NULL, ?)", (sender, data["timestamp"], json.dumps(data)))
                db.execute("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                           "VALUES (?, 'action', ?, NULL, 'action_listen', '{}')", (sender, data["timestamp"]))
    db.close()
    return path
