"""Limits on the citizen API: ``limit_hits`` (one row per counted event) and ``limit_notes`` (short-lived notes).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09

Used by :class:`bot.limits.sql.SqlLimiter` where no Redis is configured. The tables hold only counters and
pseudonymised addresses, nothing to migrate: the downgrade drops them. Written out here, not imported, so that this
revision keeps meaning what it meant when the models change again.
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create ``limit_hits`` with its (key, at) index and ``limit_notes``."""
    op.create_table(
        "limit_hits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_limit_hits_key_at", "limit_hits", ["key", "at"])
    op.create_table(
        "limit_notes",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("limit_notes")
    op.drop_index("ix_limit_hits_key_at", table_name="limit_hits")
    op.drop_table("limit_hits")
