"""Which ``tracker_store`` types in ``endpoints.yml`` keep conversations in Rasa's SQL ``events`` table.

Rasa's own ``SQL`` store, :class:`bot.conversations.compaction.CompactingSQLTrackerStore` (a subclass that
writes the same table) and :class:`bot.conversations.redacting_store.RedactingSQLTrackerStore` (the one both
endpoints files use: it also redacts what it writes) are read and erased the same way. No Rasa import here: the
web service uses this.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

COMPACTING_SQL_STORE = "bot.conversations.compaction.CompactingSQLTrackerStore"
REDACTING_SQL_STORE = "bot.conversations.redacting_store.RedactingSQLTrackerStore"
_SQL_TYPES = frozenset({"sql", COMPACTING_SQL_STORE.lower(), REDACTING_SQL_STORE.lower()})


def is_sql_store(kind: str) -> bool:
    """True if the ``tracker_store`` ``type`` ``kind`` stores events in Rasa's SQL ``events`` table."""
    return kind.strip().lower() in _SQL_TYPES


def url_query(query: Optional[Mapping[str, Any]]) -> Dict[str, str]:
    """A SQL store's ``query`` settings (added to its database URL) without the empty ones.

    ``sslmode: ${AUSKUNFT_PG_SSLMODE}`` left empty means the driver's default; passed on as ``sslmode=`` it would make
    libpq refuse to connect. Rasa's store and the eraser read the same settings through this.
    """
    return {str(key): str(value) for key, value in (query or {}).items() if value not in (None, "")}
