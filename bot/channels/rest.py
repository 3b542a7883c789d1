"""Rasa's REST channel with input validation: bad messages get a 4xx, never reach the bot.

Registered in ``credentials.yml`` as ``bot.channels.rest.ValidatedRestInput``; it keeps
the channel name ``rest``, so the URL stays ``/webhooks/rest/webhook``.
"""

from __future__ import annotations

import logging
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.incoming import MessageRejected, clean_message
from bot.config.settings import get_settings
from bot.embedding.sealed_vector import INCOMING, METADATA_KEY
from bot.run.internal_auth import REFUSED, expected_token, is_allowed

logger = logging.getLogger(__name__)
MAX_SENDER = 128


def _reject(status: int, reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


class ValidatedRestInput(RestInput):
    """REST input that rejects empty, oversized, non-text or malformed messages with 4xx."""

    @classmethod
    def name(cls) -> Text:
        """Same name as Rasa's REST channel: ``/webhooks/rest/webhook``."""
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """The channel's routes: ``GET /`` (health) and ``POST /webhook``."""
        settings = get_settings()
        max_chars, token = settings.max_message_chars, expected_token(settings)
        hook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not is_allowed(token, request.headers):  # only the web service, which applies the citizen limits
                return _reject(401, REFUSED)
            if len(request.body or b"") > max_chars * 8 + 4096:
                return _reject(413, f"request too large (messages have at most {max_chars} characters)")
            try:
                body = request.json
            except Exception:  # sanic raises InvalidUsage for malformed JSON
                return _reject(400, "body must be JSON: {\"sender\": \"...\", \"message\": \"...\"}")
            if not isinstance(body, dict):
                return _reject(400, "body must be a JSON object with 'sender' and 'message'")
            sender = body.get("sender")
            if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER:
                return _reject(400, f"'sender' must be a text of 1 to {MAX_SENDER} characters")
            try:
                text = clean_message(body.get("message"), max_chars)
            except MessageRejected as err:
                return _reject(err.status, err.reason)
            metadata: Optional[Dict[str, Any]] = body.get("metadata")
            if metadata is not None and not isinstance(metadata, dict):
                return _reject(400, "'metadata' must be a JSON object")
            collector = CollectingOutputChannel()
            # The web service's query vector is for this message only: kept out of the stored event.
            vector = INCOMING.set(metadata.pop(METADATA_KEY, None) if metadata else None)
            try:
                await on_new_message(
                    UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
                )
            except CancelledError:
                logger.error("message from %s timed out", sender[:8])
            except Exception:
                logger.exception("message from %s failed", sender[:8])
                return _reject(500, "the bot could not process the message; please try again")
            finally:
                INCOMING.reset(vector)
            return response.json(collector.messages)

        return hook
