"""The questions citizens asked most recently, read from Rasa's SQL tracker store (for ``auskunft kb diff``).

Rasa 3.6's ``SQLTrackerStore`` keeps every event as a row of the ``events`` table; a citizen's message is a row with
``type_name = 'user'`` whose JSON ``data`` holds the ``text``. The connection is built from ``endpoints.yml`` exactly
as :class:`bot.conversations.erase.TrackerEraser` does. Nothing is written; a SQLite file that does not exist yet is
not created. Texts are returned with personal data redacted (:func:`bot.privacy.redact.redact`): they end up in a
report that editors read.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional

import yaml

from bot.conversations.erase import EraseUnsupported
from bot.conversations.tracker_db import NoDatabaseYet, NotSqlStore, sql_tracker_engine
from bot.privacy.redact import redact

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)

BATCH = 500
MAX_SCANNED_PER_QUESTION = 50  # stop after limit * this many rows even if too few distinct questions were found


@dataclass(frozen=True)
class StoreNote:
    """Why no (or fewer) recent questions were read: ``code`` is one of ``not_sql``, ``no_database``, ``unreadable``.

    ``detail`` names the store type, the database file, or the error.
    """

    code: str
    detail: str


@dataclass
class RecentQuestions:
    """The questions read (newest first) and, if the store could not be read, why."""

    questions: List[str] = field(default_factory=list)
    notes: List[StoreNote] = field(default_factory=list)


def _text_of(raw: Any) -> Optional[str]:
    """The message text in an event's JSON ``data``; None for anything else."""
    try:
        data = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    except ValueError:
        return None
    text = data.get("text") if isinstance(data, dict) else None
    return text if isinstance(text, str) else None


def read_recent_questions(limit: int, environ: Optional[Mapping[str, str]] = None,
                          endpoints_path: Path = Path("endpoints.yml")) -> RecentQuestions:
    """The last ``limit`` distinct citizen messages in the tracker store, newest first, with notes on problems.

    Button payloads (texts starting with ``/``) and empty texts are skipped; a text already seen (ignoring case and
    extra spaces, after redaction) is skipped too.

    Args:
        limit: how many questions at most; 0 reads nothing.
        environ: values for ``${VAR}`` in ``endpoints.yml``; defaults to ``os.environ``.
        endpoints_path: the endpoints file Rasa runs with.
    """
    result = RecentQuestions()
    if limit <= 0:
        return result
    environ = os.environ if environ is None else environ
    try:
        engine = sql_tracker_engine(endpoints_path, environ)
    except NotSqlStore as err:
        result.notes.append(StoreNote("not_sql", err.kind))
        return result
    except NoDatabaseYet as err:
        result.notes.append(StoreNote("no_database", err.path))
        return result
    except (OSError, ValueError, yaml.YAMLError) as err:  # EraseUnsupported is a ValueError
        code = "not_sql" if isinstance(err, EraseUnsupported) else "unreadable"
        result.notes.append(StoreNote(code, str(err)))
        return result
    try:
        result.questions = _newest_user_texts(engine, limit)
    except Exception as err:  # any driver error: the report still runs on the test questions
        logger.warning("could not read recent questions from the tracker store: %s", err)
        result.notes.append(StoreNote("unreadable", f"{type(err).__name__}: {str(err).splitlines()[0][:300]}"))
    finally:
        engine.dispose()
    return result


def _newest_user_texts(engine: Engine, limit: int) -> List[str]:
    """Page through the ``user`` events, newest first, until ``limit`` distinct texts are found."""
    import sqlalchemy as sa

    query = sa.text("SELECT data FROM events WHERE type_name = 'user' ORDER BY timestamp DESC, id DESC "
                    "LIMIT :batch OFFSET :offset")
    seen: Dict[str, None] = {}
    questions: List[str] = []
    offset = 0
    with engine.connect() as connection:
        while len(questions) < limit and offset < limit * MAX_SCANNED_PER_QUESTION:
            rows = connection.execute(query, {"batch": BATCH, "offset": offset}).fetchall()
            for (raw,) in rows:
                text = _text_of(raw)
                if text is None or not text.strip() or text.lstrip().startswith("/"):
                    continue
                shown = redact(" ".join(text.split()))
                key = shown.casefold()
                if key not in seen:
                    seen[key] = None
                    questions.append(shown)
                    if len(questions) == limit:
                        break
            if len(rows) < BATCH:
                break
            offset += BATCH
    return questions


def recent_questions(limit: int, environ: Optional[Mapping[str, str]] = None,
                     endpoints_path: Path = Path("endpoints.yml")) -> List[str]:
    """The last ``limit`` distinct citizen messages (see :func:`read_recent_questions`); [] if none can be read.

    Why nothing could be read (the store is not SQL, the database does not exist yet) is logged as a note.
    """
    found = read_recent_questions(limit, environ, endpoints_path)
    for note in found.notes:
        logger.info("recent questions not read (%s): %s", note.code, note.detail)
    return found.questions
