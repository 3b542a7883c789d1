"""The built-in inbox: tickets already live in our own database, so there is nothing to deliver."""

from __future__ import annotations

from typing import Optional

from bot.helpdesk.base import TicketPayload


class InboxConnector:
    """The default connector (``AUSKUNFT_HELPDESK=inbox``): agents work in the built-in inbox.

    Delivery is a no-op; callers need not enqueue tickets for it at all.
    """

    name = "inbox"

    def deliver(self, ticket: TicketPayload) -> Optional[str]:
        """Nothing to do: the ticket is already in the inbox.

        Returns:
            None (the inbox has no separate reference; the case number is the reference).
        """
        return None
