"""Reading the bot's reply to ``/api/chat``: its decision and the buttons it offered (used by several suites)."""

from __future__ import annotations

from typing import Any, Dict, List


def decisions(reply: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The ``custom`` part of the bot's reply (decision, step, faq_id, case_number)."""
    found: Dict[str, Any] = {}
    for message in reply:
        found.update(message.get("custom") or {})
    return found


def offered(reply: List[Dict[str, Any]]) -> List[str]:
    """The payloads of the reply's buttons."""
    return [button["payload"] for message in reply for button in message.get("buttons") or []]
