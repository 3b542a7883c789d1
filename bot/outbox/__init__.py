"""Outboxes: work that must reach another service, kept in a database until delivered, with one retry policy."""

from bot.outbox.policy import DEFAULT_POLICY, RetryPolicy
from bot.outbox.store import Item, Outbox

__all__ = ["DEFAULT_POLICY", "Item", "Outbox", "RetryPolicy"]
