"""Which ``tracker_store`` types in ``endpoints.yml`` keep conversations in Rasa's SQL ``events`` table.

Rasa's own ``SQL`` store, :class:`bot.conversations.compaction.CompactingSQLTrackerStore` (a subclass that
writes the same table) and :class:`bot.conversations.redacting_store.RedactingSQLTrackerStore` (the one both
endpoints files use: it also redacts what it writes) are read and erased the same way. No Rasa import here: the
web service uses this.
"""

from __future__ import annotations

COMPACTING_SQL_STORE = "bot.conversations.compaction.CompactingSQLTrackerStore"
REDACTING_SQL_STORE = "bot.conversations.redacting_store.RedactingSQLTrackerStore"
_SQL_TYPES = frozenset({"sql", COMPACTING_SQL_STORE.lower(), REDACTING_SQL_STORE.lower()})


def is_sql_store(kind: str) -> bool:
    """True if the ``tracker_store`` ``type`` ``kind`` stores events in Rasa's SQL ``events`` table."""
    return kind.strip().lower() in _SQL_TYPES
