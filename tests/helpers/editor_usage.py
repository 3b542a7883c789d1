"""Conversations for the editor's usage analytics, as Rasa 3.6 logs them, written with Rasa's own SQLTrackerStore.

Rasa is imported inside the functions, so that importing this module stays cheap.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

# The fixed "now" of the seeded logs.
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=timezone.utc)


def at(days_ago: float, minute: int = 0) -> float:
    """The timestamp ``days_ago`` days before :data:`NOW`, plus ``minute`` minutes."""
    return (NOW - timedelta(days=days_ago) + timedelta(minutes=minute)).timestamp()


def ask(text: str, stamp: float, intent: str = "faq", top: Optional[float] = 0.3, agency: Optional[str] = None) -> Any:
    """A citizen's message with its intent and the retrieval's top candidate (score ``top``; none when ``None``)."""
    from rasa.shared.core.events import UserUttered

    found = [] if top is None else [{"faq_id": "sperrmuell", "score": top, "title": "Sperrmüll"}]
    return UserUttered(text, intent={"name": intent, "confidence": 0.9}, timestamp=stamp,
                       metadata={"agency": agency} if agency else None,
                       parse_data={"intent": {"name": intent, "confidence": 0.9}, "entities": [], "text": text,
                                   "faq": {"candidates": found, "lang": "de", "index_version": "v1"}})


def bot(stamp: float, custom: Optional[Dict[str, Any]] = None, action: str = "action_answer_faq") -> List[Any]:
    """What Rasa logs for an action's reply: the text message, then the json_message (if any)."""
    from rasa.shared.core.events import ActionExecuted, BotUttered

    events = [ActionExecuted(action, timestamp=stamp), BotUttered("Antwort", {"buttons": [], "custom": None},
                                                                  timestamp=stamp)]
    if custom is not None:
        events.append(BotUttered(None, {"custom": custom}, timestamp=stamp))
    return events + [ActionExecuted("action_listen", timestamp=stamp)]


def answer(faq_id: str, stamp: float, score: float = 0.71) -> List[Any]:
    """The bot answering with the kb entry ``faq_id`` at ``score``."""
    return bot(stamp, {"decision": "answer", "faq_id": faq_id, "score": score, "index_version": "v1"})


def handoff_form(stamp: float, custom: bool = True) -> List[Any]:
    """The hand-over form starting and asking for consent (the decision logged only when ``custom``)."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop

    events = [ActionExecuted("action_answer_faq", timestamp=stamp), ActionExecuted("handoff_form", timestamp=stamp),
              ActiveLoop("handoff_form", timestamp=stamp)]
    return events + (bot(stamp, {"decision": "handoff", "reason": "low_confidence", "step": "consent"},
                         "action_ask_handoff_consent") if custom else [])


def save(path: Path, conversations: Dict[str, List[Any]]) -> Path:
    """Write the conversations with Rasa 3.6's own SQLTrackerStore."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    for sender, events in conversations.items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    store.engine.dispose()
    return path
