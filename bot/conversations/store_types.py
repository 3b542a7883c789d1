"""Which ``tracker_store`` types in ``endpoints.yml`` keep conversations in Rasa's SQL ``events`` table.

Rasa's own ``SQL`` store and :class:`bot.conversations.compaction.CompactingSQLTrackerStore` (a subclass that
writes the same table) are read and erased the same way. No Rasa import here: the web service uses this.
"""

from __future__ import annotations

COMPACTING_SQL_STORE = "bot.conversations.compaction.CompactingSQLTrackerStore"
_SQL_TYPES = frozenset({"sql", COMPACTING_SQL_STORE.lower()})


def is_sql_store(kind: str) -> bool:
    """True if the ``tracker_store`` ``type`` ``kind`` stores events in Rasa's SQL ``events`` table."""
    return kind.strip().lower() in _SQL_TYPES
