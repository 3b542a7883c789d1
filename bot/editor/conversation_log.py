"""The citizens' questions and what the bot did with them, read from Rasa's SQL tracker store.

Rasa 3.6's ``SQLTrackerStore`` keeps every event as a row of the ``events`` table (see
:mod:`bot.editor.recent_questions`). A *question* is a ``user`` event whose text does not start with ``/`` (a
button) and whose intent is ``faq``; greetings, thanks, yes/no and feedback clicks are not questions. Its *decision*
is the ``decision`` of the first bot message after it (and before the next ``user`` event) whose ``custom`` JSON
carries one, as :mod:`actions.answer` and :mod:`actions.handoff` send them: ``answer`` (with ``faq_id`` and
``score``), ``clarify`` or ``handoff``. Without such a message, a question after which the ``handoff_form`` starts is
a ``handoff``; anything else is ``other``. A clarified question stays ``clarify`` even if the citizen then picks an
entry with a button. An answered question is *marked not helpful* when the citizen's very next message has the
intent ``feedback_not_helpful`` or ``deny``.

A conversation is *served* when the bot gave an answer (a message with decision ``answer``, also one for an entry
the citizen picked from a clarification) and that last answer was followed neither by a not-helpful mark (the very
next user message has one of those intents) nor by a handoff (a message with decision ``handoff`` or the
``handoff_form``). The editors' containment counts served conversations (:mod:`bot.editor.usage`).

Nothing is written; texts are returned with personal data redacted (:func:`bot.privacy.redact.redact`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Tuple

from bot.conversations.erase import EraseUnsupported
from bot.conversations.tracker_db import NoDatabaseYet, NotSqlStore, sql_tracker_engine
from bot.privacy.redact import redact

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DECISIONS = ("answer", "clarify", "handoff", "other")
HANDOFF_FORM = "handoff_form"
NOT_HELPFUL_INTENTS = ("feedback_not_helpful", "deny")


@dataclass(frozen=True)
class Turn:
    """One citizen question and what the bot did with it.

    Attributes:
        conversation_id: Rasa's sender id.
        text: the question, personal data redacted.
        at: when it was asked (UTC).
        decision: ``answer``, ``clarify``, ``handoff`` or ``other``.
        faq_id: the entry given, for ``answer``.
        score: the answer's confidence for ``answer``; otherwise the best candidate's score, if any.
        agency: the widget's agency (message metadata); None for the default agency.
    """

    conversation_id: str
    text: str
    at: datetime
    decision: str
    faq_id: Optional[str]
    score: Optional[float]
    agency: Optional[str] = None


def tracker_engine(endpoints_path: Path, environ: Mapping[str, str]) -> Optional[Engine]:
    """The engine for Rasa's SQL tracker store configured in ``endpoints.yml`` (as Rasa and ``kb diff`` build it).

    Args:
        endpoints_path: the endpoints file Rasa runs with.
        environ: values for ``${VAR}`` in its ``tracker_store`` section.

    Returns:
        None if the tracker store is not SQL (or an in-memory SQLite) or its SQLite file does not exist yet.

    Raises:
        OSError: the endpoints file cannot be read.
        ValueError: a variable it uses is not set, or the SQL dialect is not supported.
    """
    try:
        return sql_tracker_engine(Path(endpoints_path), environ)
    except (NotSqlStore, NoDatabaseYet):
        return None
    except EraseUnsupported as err:
        if "in memory" in str(err):
            return None
        raise


def _json(raw: Any) -> Dict[str, Any]:
    try:
        data = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _float(value: Any) -> Optional[float]:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def _intent(data: Mapping[str, Any]) -> Optional[str]:
    intent = (data.get("parse_data") or {}).get("intent") or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    return name if isinstance(name, str) else None


def _agency(data: Mapping[str, Any]) -> Optional[str]:
    metadata = (data.get("parse_data") or {}).get("metadata") or data.get("metadata") or {}
    agency = metadata.get("agency") if isinstance(metadata, dict) else None
    return agency if isinstance(agency, str) and agency else None


def _top_score(data: Mapping[str, Any]) -> Optional[float]:
    payload = (data.get("parse_data") or {}).get("faq")
    found = payload.get("candidates") if isinstance(payload, dict) else None
    first = found[0] if isinstance(found, list) and found and isinstance(found[0], dict) else {}
    return _float(first.get("score"))


class _Question:
    """A question being read, until the next user event closes its segment."""

    def __init__(self, sender: str, text: str, at: datetime, score: Optional[float],
                 agency: Optional[str] = None) -> None:
        self.sender, self.text, self.at, self.score, self.agency = sender, text, at, score, agency
        self.decision: Optional[str] = None
        self.faq_id: Optional[str] = None
        self.handoff_form = False
        self.not_helpful = False

    def turn(self) -> Turn:
        decision = self.decision or ("handoff" if self.handoff_form else "other")
        return Turn(self.sender, self.text, self.at, decision, self.faq_id if decision == "answer" else None,
                    self.score, self.agency)


@dataclass(frozen=True)
class ConversationLog:
    """What :func:`_read_log` found.

    Attributes:
        questions: every question, oldest first per conversation, with its not-helpful mark.
        served: the conversations whose last answer was followed by neither a not-helpful mark nor a handoff.
    """

    questions: List[Tuple[Turn, bool]]
    served: FrozenSet[str]


def _read_log(engine: Engine, since: datetime) -> ConversationLog:
    """Every question asked at or after ``since`` and the served conversations (events since then only)."""
    import sqlalchemy as sa

    if not sa.inspect(engine).has_table("events"):
        return ConversationLog([], frozenset())
    query = sa.text("SELECT sender_id, type_name, timestamp, action_name, data FROM events "
                    "WHERE timestamp >= :since AND (type_name IN ('user', 'bot') OR action_name = :form) "
                    "ORDER BY sender_id, id")
    with engine.connect() as connection:
        rows = connection.execution_options(stream_results=True).execute(
            query, {"since": since.timestamp(), "form": HANDOFF_FORM})
        return _questions(rows)


def _questions(rows: Iterable[Any]) -> ConversationLog:
    """Fold the event rows (grouped by sender, in order) into questions and served conversations."""
    found: List[_Question] = []
    served: Dict[str, bool] = {}
    sender: Optional[str] = None
    current: Optional[_Question] = None  # the question whose segment the rows belong to
    answered = False  # the sender's latest bot decision was an answer, with no user message since
    for sender_id, kind, stamp, action, raw in rows:
        if sender_id != sender:
            sender, current, answered = sender_id, None, False
        if kind == "user":
            data = _json(raw)
            intent = _intent(data)
            if answered and intent in NOT_HELPFUL_INTENTS:
                served[str(sender_id)] = False
            answered = False
            if current is not None and current.decision == "answer" and intent in NOT_HELPFUL_INTENTS:
                current.not_helpful = True
            text = data.get("text")
            current = None
            if isinstance(text, str) and text.strip() and not text.lstrip().startswith("/") and intent == "faq":
                at = datetime.fromtimestamp(float(stamp or data.get("timestamp") or 0), tz=timezone.utc)
                current = _Question(str(sender_id), redact(" ".join(text.split())), at, _top_score(data),
                                    _agency(data))
                found.append(current)
            continue
        custom = (_json(raw).get("data") or {}).get("custom") if kind == "bot" else None
        if isinstance(custom, dict) and custom.get("decision") in ("answer", "handoff"):
            answered = custom["decision"] == "answer"
            served[str(sender_id)] = answered
        elif action == HANDOFF_FORM:
            served[str(sender_id)] = False
        if current is None:
            continue
        if kind == "bot":
            if current.decision is None and isinstance(custom, dict) and "decision" in custom:
                decision = str(custom.get("decision"))
                current.decision = decision if decision in DECISIONS else "other"
                if current.decision == "answer":
                    current.faq_id = None if custom.get("faq_id") is None else str(custom["faq_id"])
                    current.score = _float(custom.get("score"))
        elif action == HANDOFF_FORM:
            current.handoff_form = True
    return ConversationLog([(question.turn(), question.not_helpful) for question in found],
                           frozenset(key for key, value in served.items() if value))


def read_turns(engine: Engine, since: datetime) -> List[Turn]:
    """The citizens' questions asked at or after ``since`` and the bot's decision on each (see the module doc).

    Args:
        engine: a database holding Rasa's ``events`` table (see :func:`tracker_engine`); a database without the
            table gives no questions.
        since: the start of the period (an aware datetime; naive means UTC).

    Returns:
        The questions ordered by conversation id, then as asked; texts redacted.
    """
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    return [turn for turn, _ in _read_log(engine, since).questions]
