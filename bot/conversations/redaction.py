"""What of a Rasa event is written to the tracker store: the event with the citizen's personal data redacted.

Rasa keeps every event of a conversation in its tracker store until the retention erases it. Before an event is
written there, :func:`redact_event` replaces personal data (:func:`bot.privacy.redact`) in everything that can hold
what the citizen typed:

- a user message's ``text``, ``parse_data.text``, the values of its entities and the strings of its metadata;
- a bot message's ``text`` and the strings of its ``data`` (buttons, custom messages: they may quote the
  citizen), button payloads included, so that a clicked payload (the next user message) still matches the
  button it came from;
- the value of every slot in :data:`FREE_TEXT_SLOTS` (the question, the e-mail address typed in the handoff
  form, the citizen's needs), except the keys in :data:`STRUCTURAL_KEYS` (entry ids, index versions, states).

The event in the running conversation is not changed: the actions of the turn in which the citizen types the
e-mail address see it in clear, and the ticket is created in that same turn; later turns read the redacted text.
No Rasa import: events are the dicts of ``Event.as_dict()``.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, FrozenSet

from bot.privacy import redact

FREE_TEXT_SLOTS: FrozenSet[str] = frozenset({"handoff_question", "handoff_email", "needs", "handoff_other_needs"})
# Made by the bot, not typed: entry ids, the index version, a need's state, and the retrieval's candidates (kb
# entries' ids, titles and scores).
STRUCTURAL_KEYS: FrozenSet[str] = frozenset({"faq_id", "index_version", "state", "score", "owner", "candidates"})


def redact_value(value: Any) -> Any:
    """``value`` with personal data redacted in every string it holds (dicts and lists recursively).

    The keys in :data:`STRUCTURAL_KEYS` keep their values: the bot made them, the citizen did not type them.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    if isinstance(value, dict):
        return {key: item if key in STRUCTURAL_KEYS else redact_value(item) for key, item in value.items()}
    return value


def redact_event(data: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of an event's dict as it may be stored: personal data redacted (see the module).

    Args:
        data: ``Event.as_dict()`` of a Rasa event.

    Returns:
        A new dict; events that hold no citizen text (actions, loops, other slots) come back unchanged.
    """
    kind = data.get("event")
    if kind not in ("user", "bot", "slot"):
        return data
    event = copy.deepcopy(data)
    if kind == "slot":
        if event.get("name") in FREE_TEXT_SLOTS:
            event["value"] = redact_value(event.get("value"))
        return event
    if isinstance(event.get("text"), str):
        event["text"] = redact(event["text"])
    if kind == "bot":
        if isinstance(event.get("data"), dict):
            event["data"] = redact_value(event["data"])
        return event
    if isinstance(event.get("metadata"), dict):
        event["metadata"] = redact_value(event["metadata"])
    parse = event.get("parse_data")
    if isinstance(parse, dict):
        if isinstance(parse.get("text"), str):
            parse["text"] = redact(parse["text"])
        if isinstance(parse.get("metadata"), dict):
            parse["metadata"] = redact_value(parse["metadata"])
        for entity in parse.get("entities") or []:
            if isinstance(entity, dict) and "value" in entity:
                entity["value"] = redact_value(entity["value"])
    return event
