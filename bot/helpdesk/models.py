"""The helpdesk's delivery queue in the ticket database: the shared outbox table (see ``bot.outbox.store``).

Revision ``0002`` made it from the former ``deliveries`` table; here it joins ``Base.metadata`` so that the schema
tests and ``alembic revision --autogenerate`` see it. One item per ticket and connector: kind ``helpdesk:NAME``, key
the case number.
"""

from __future__ import annotations

from sqlalchemy import Table

from bot.db.base import Base
from bot.outbox.store import items

outbox_items: Table = Base.metadata.tables.get(items.name) or items.to_metadata(Base.metadata)


def kind(connector_name: str) -> str:
    """The outbox kind of deliveries to ``connector_name``."""
    return f"helpdesk:{connector_name}"
