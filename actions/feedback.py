"""Recording "did this help?" votes per FAQ entry (best effort: a vote never blocks the conversation)."""

from __future__ import annotations

import asyncio
import logging

import httpx
from rasa_sdk import Tracker

from actions.conversation import language
from actions.handoff import ticket_client

logger = logging.getLogger(__name__)


async def record_feedback(tracker: Tracker, helpful: bool) -> bool:
    """Store the citizen's vote on the last answer; False if there was none or the service is down."""
    faq_id = tracker.get_slot("last_faq_id")
    if not faq_id:
        return False
    vote = {"conversation_id": tracker.sender_id, "faq_id": str(faq_id), "helpful": helpful,
            "language": language(tracker)}
    try:
        await asyncio.to_thread(ticket_client().post_feedback, vote)
        return True
    except httpx.HTTPError as err:
        logger.warning("feedback on %s not recorded: %s", faq_id, type(err).__name__)
        return False
