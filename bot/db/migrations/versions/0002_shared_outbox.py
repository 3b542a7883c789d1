"""The shared outbox: ``deliveries`` (the helpdesk's own queue) becomes ``outbox_items``, the table of ``bot.outbox``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Every delivery is kept: kind ``helpdesk:CONNECTOR``, key and payload the case number; ``failed`` becomes a dead
letter and ``delivered`` a receipt (``delivered_at``, ``ref``). The table is written out here, not imported, so that
this revision keeps meaning what it meant when the model changes again.
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from bot.db.migrations import baseline

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PREFIX = "helpdesk:"


def _outbox_columns() -> list:
    return [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(32), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("dead", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ref", sa.String(200), nullable=True),
        sa.UniqueConstraint("kind", "key", name="uq_outbox_items_kind_key"),
    ]


def upgrade() -> None:
    """Create ``outbox_items``, move every delivery into it, drop ``deliveries``."""
    outbox = op.create_table("outbox_items", *_outbox_columns())
    op.create_index("ix_outbox_items_next_attempt_at", "outbox_items", ["next_attempt_at"])
    deliveries = baseline.metadata.tables["deliveries"]
    bind = op.get_bind()
    rows = [{"kind": PREFIX + row.connector, "key": row.case_number,
             "payload": {} if row.status == "delivered" else {"case_number": row.case_number},
             "attempts": row.attempts, "next_attempt_at": row.next_attempt_at, "leased_until": row.claimed_until,
             "leased_by": row.claimed_by, "last_error": row.last_error, "dead": row.status == "failed",
             "created_at": row.created_at, "delivered_at": row.delivered_at if row.status == "delivered" else None,
             "ref": row.external_ref} for row in bind.execute(sa.select(deliveries).order_by(deliveries.c.id))]
    if rows:
        bind.execute(outbox.insert(), rows)
    op.drop_table("deliveries")


def downgrade() -> None:
    """Bring back ``deliveries`` with the helpdesk items of tickets that still exist; drop ``outbox_items``."""
    bind = op.get_bind()
    deliveries = baseline.metadata.tables["deliveries"]
    deliveries.create(bind)
    outbox = sa.Table("outbox_items", sa.MetaData(), *_outbox_columns())
    tickets = baseline.metadata.tables["tickets"]
    cases = set(bind.execute(sa.select(tickets.c.case_number)).scalars())
    rows = [{"case_number": row.key, "connector": row.kind[len(PREFIX):],
             "status": "delivered" if row.delivered_at is not None else "failed" if row.dead else "pending",
             "attempts": row.attempts, "next_attempt_at": row.next_attempt_at, "claimed_until": row.leased_until,
             "claimed_by": row.leased_by, "last_error": row.last_error, "external_ref": row.ref,
             "created_at": row.created_at, "delivered_at": row.delivered_at}
            for row in bind.execute(sa.select(outbox).where(outbox.c.kind.startswith(PREFIX)).order_by(outbox.c.id))
            if row.key in cases]
    if rows:
        bind.execute(deliveries.insert(), rows)
    op.drop_table("outbox_items")
