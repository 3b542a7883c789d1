"""Reading what the bot needs from a tracker: language, candidates, the question, the transcript."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from itertools import chain
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from rasa_sdk import Tracker

from bot.config.settings import PROJECT_ROOT, get_settings
from bot.conversations.history import HistoryUnavailable, earlier_messages
from bot.privacy import redact
from bot.retrieval.index import Candidate
from bot.run.runtime_env import child_env

logger = logging.getLogger(__name__)

MAX_TRANSCRIPT_LINES = 200


def faq_payload(tracker: Tracker) -> Dict[str, Any]:
    """What the FaqRetriever attached to the latest message (empty if nothing)."""
    payload = (tracker.latest_message or {}).get("faq")
    return payload if isinstance(payload, dict) else {}


def agency(tracker: Tracker) -> Optional[str]:
    """The agency whose widget the citizen writes through (message metadata; None: the default agency).

    The newest message of the session that names one, else the metadata the conversation started with (Rasa's
    ``session_started_metadata`` slot, carried into every new session).
    """
    earlier = (e.get("parse_data") or {} for e in reversed(tracker.events) if e.get("event") == "user")
    started = {"metadata": tracker.get_slot("session_started_metadata")}
    for parse_data in chain([tracker.latest_message or {}], earlier, [started]):  # newest first, stops when found
        metadata = parse_data.get("metadata") if isinstance(parse_data, dict) else None
        if isinstance(metadata, dict) and metadata.get("agency"):
            return str(metadata["agency"])
    return None


def language(tracker: Tracker) -> str:
    """The conversation language: this message's when its text settled it, else the remembered one.

    A message too short or too mixed to tell ("ok", an e-mail address) keeps the conversation's language;
    the first message of a conversation falls back to the page's language, which the retriever used.
    """
    payload = faq_payload(tracker)
    if tracker.get_slot("requested_slot") and tracker.get_slot("lang") in ("de", "en"):
        return str(tracker.get_slot("lang"))  # a form's answer (an e-mail address, "ja") keeps the language
    said = payload.get("lang") if payload.get("lang_confident", True) else None
    lang = said or tracker.get_slot("lang") or payload.get("lang")
    return lang if lang in ("de", "en") else "de"


def candidates(tracker: Tracker) -> List[Candidate]:
    """The ranked FAQ candidates of the latest message."""
    return _parse_candidates(faq_payload(tracker))


def last_question_payload(tracker: Tracker) -> Dict[str, Any]:
    """The retrieval result of the citizen's most recent typed message (buttons carry none)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            payload = (event.get("parse_data") or {}).get("faq")
            if isinstance(payload, dict) and payload.get("candidates") is not None:
                return payload
    return faq_payload(tracker)


def question_candidates(tracker: Tracker) -> List[Candidate]:
    """The candidates the bot considered for the citizen's most recent question."""
    return _parse_candidates(last_question_payload(tracker))


def _parse_candidates(payload: Dict[str, Any]) -> List[Candidate]:
    result = []
    for item in payload.get("candidates") or []:
        try:
            result.append(Candidate(str(item["faq_id"]), float(item["score"]), str(item.get("title", "")),
                                    str(item.get("matched", "")), str(item.get("lang", "")),
                                    str(item.get("source", ""))))
        except (KeyError, TypeError, ValueError):
            continue
    return result


def intent(tracker: Tracker) -> Optional[str]:
    """The latest message's intent name."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def last_question(tracker: Tracker) -> str:
    """The citizen's most recent typed message that was a question (not a button or a yes/no)."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        text = event.get("text") or ""
        name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if text and not text.startswith("/") and name == "faq":
            return str(text)
    return str((tracker.latest_message or {}).get("text") or "")


def earlier_events(tracker: Tracker) -> List[Dict[str, Any]]:
    """The user and bot events of the conversation's earlier sessions (the action server gets the current one only).

    Read from the tracker store ``endpoints.yml`` configures (:func:`bot.conversations.history.earlier_messages`);
    [] when there are none or the store cannot be read (logged: the transcript then starts with this session).
    """
    first = tracker.events[0].get("timestamp") if tracker.events else None
    if first is None:
        return []
    settings = get_settings()
    endpoints = Path(settings.endpoints) if settings.endpoints.startswith("/") else PROJECT_ROOT / settings.endpoints
    try:
        return earlier_messages(tracker.sender_id, float(first), MAX_TRANSCRIPT_LINES, endpoints, child_env(settings))
    except HistoryUnavailable as err:
        logger.warning("The ticket's transcript holds only the current session: %s", err)
        return []


def transcript(tracker: Tracker, earlier: Sequence[Dict[str, Any]] = ()) -> List[Dict[str, Any]]:
    """User and bot messages, oldest first, personal data redacted, button clicks named.

    A bot line also keeps the titles of the buttons it offered (``options``) and what the bot decided for that
    turn (``decision``, ``score``, ``faq_id``, from the structured message that follows it); a button click keeps
    the title of the button the citizen pressed (``choice``), so the staff see what the citizen saw.

    Args:
        tracker: The tracker the action server was given (the current session).
        earlier: The events of the earlier sessions (:func:`earlier_events`), put before the tracker's.
    """
    lines: List[Dict[str, Any]] = []
    offered: Dict[str, str] = {}  # payload -> title of the buttons the bot offered last
    for event in chain(earlier, tracker.events):
        kind = event.get("event")
        if kind not in ("user", "bot"):
            continue
        text = str(event.get("text") or "")
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        if kind == "bot" and not text:
            _add_decision(lines, data.get("custom"))
            continue
        choice = None
        if kind == "user" and text.startswith("/"):
            choice = offered.get(text)
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or text[1:]
            text = f"[button: {name}]"
        if not text:
            continue
        stamp = event.get("timestamp")
        at = datetime.fromtimestamp(float(stamp), tz=timezone.utc).isoformat() if stamp else None
        line: Dict[str, Any] = {"role": "citizen" if kind == "user" else "bot", "text": redact(text)[:5000], "at": at}
        if kind == "bot":
            buttons = [b for b in data.get("buttons") or [] if isinstance(b, dict) and b.get("title")]
            offered = {str(b.get("payload")): str(b["title"])[:300] for b in buttons}
            if buttons:
                line["options"] = [str(b["title"])[:300] for b in buttons][:12]
        elif choice:
            line["choice"] = choice
        lines.append(line)
    return lines[-MAX_TRANSCRIPT_LINES:]


def _add_decision(lines: List[Dict[str, Any]], custom: Any) -> None:
    """Note the bot's decision (and its score, the answered entry) on the bot line it belongs to."""
    if not isinstance(custom, dict) or not isinstance(custom.get("decision"), str) or not lines:
        return
    line = lines[-1]
    if line["role"] != "bot" or "decision" in line:
        return
    line["decision"] = custom["decision"][:20]
    score = custom.get("score")
    if score is None and custom.get("candidates"):
        first = custom["candidates"][0]
        score = first.get("score") if isinstance(first, dict) else None
    if isinstance(score, (int, float)) and -1.0 <= score <= 1.0:
        line["score"] = round(float(score), 4)
    if isinstance(custom.get("faq_id"), str):
        line["faq_id"] = custom["faq_id"][:80]
