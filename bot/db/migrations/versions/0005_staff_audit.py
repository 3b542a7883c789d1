"""Staff account changes: ``staff_audit`` (who disabled, enabled, changed or removed which account, and when).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10

Written by :mod:`bot.staff.accounts` for every change made in the inbox or with ``auskunft agent``; it never holds
a password. Nothing to migrate: the downgrade drops the table (and with it the record of past changes). Written out
here, not imported, so that this revision keeps meaning what it meant when the model changes again.
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create ``staff_audit`` with its indexes on ``at`` and ``target``."""
    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON, nullable=True),
    )
    op.create_index("ix_staff_audit_at", "staff_audit", ["at"])
    op.create_index("ix_staff_audit_target", "staff_audit", ["target"])


def downgrade() -> None:
    """Drop ``staff_audit`` (the record of account changes is lost; the accounts stay)."""
    op.drop_index("ix_staff_audit_target", table_name="staff_audit")
    op.drop_index("ix_staff_audit_at", table_name="staff_audit")
    op.drop_table("staff_audit")
