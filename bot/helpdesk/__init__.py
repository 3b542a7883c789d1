"""Connectors to existing helpdesks (built-in inbox, Zammad, signed webhook), fed through a database outbox."""

from bot.helpdesk.base import (
    CandidateEntry,
    Connector,
    DeliveryError,
    DeliveryRejected,
    TicketPayload,
    TranscriptEntry,
)
from bot.helpdesk.builtin import InboxConnector
from bot.helpdesk.factory import connector_from_settings
from bot.helpdesk.outbox import DeliveryWorker, enqueue, enqueue_missing
from bot.helpdesk.webhook import WebhookConnector, sign, verify_signature
from bot.helpdesk.zammad import ZammadConnector

__all__ = [
    "CandidateEntry",
    "Connector",
    "DeliveryError",
    "DeliveryRejected",
    "DeliveryWorker",
    "InboxConnector",
    "TicketPayload",
    "TranscriptEntry",
    "WebhookConnector",
    "ZammadConnector",
    "connector_from_settings",
    "enqueue",
    "enqueue_missing",
    "sign",
    "verify_signature",
]
