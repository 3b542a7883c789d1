"""A small Rasa events table for the editors' analytics: five conversations with known outcomes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa


def seed_trackers(path: Path, now: datetime) -> sa.engine.Engine:
    """Rasa's events table with five conversations: two answered, one handed over, one clarified, one declined."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                                   "timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)"))
        rows = []
        for sender, question, custom in (
                ("c1", "Wie melde ich Sperrmüll an?", {"decision": "answer", "faq_id": "sperrmuell", "score": 0.8}),
                ("c2", "Was kostet der Personalausweis?", {"decision": "answer", "faq_id": "personalausweis"}),
                ("conv-AK-AAAA-0001", "Wo melde ich mein <b>Boot</b> an?", {"decision": "handoff"}),
                ("c4", "Bootsführerschein verlängern", {"decision": "clarify"}),
                ("c5", "Lastenrad Förderung", {"decision": "handoff"})):  # the citizen left no ticket
            stamp = (now - timedelta(days=2)).timestamp()
            user = {"text": question, "parse_data": {"intent": {"name": "faq"}}}
            rows.append({"s": sender, "t": "user", "ts": stamp, "a": None, "d": json.dumps(user)})
            rows.append({"s": sender, "t": "bot", "ts": stamp + 1, "a": None,
                         "d": json.dumps({"text": "…", "data": {"custom": custom}})})
        connection.execute(sa.text("INSERT INTO events (sender_id, type_name, timestamp, action_name, data) "
                                   "VALUES (:s, :t, :ts, :a, :d)"), rows)
    return engine
