"""Learning from handoffs: ``phrasing_suggestions``, the FAQ entry an agent linked to a ticket, and its decision.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08

The table is written out here, not imported, so that this revision keeps meaning what it meant when the model
changes again.
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create ``phrasing_suggestions`` with its indexes."""
    op.create_table(
        "phrasing_suggestions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("agency", sa.String(40), nullable=True),
        sa.Column("faq_id", sa.String(80), nullable=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("linked_by", sa.String(80), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text, nullable=True),
        sa.UniqueConstraint("ticket_id"),
    )
    op.create_index("ix_phrasing_suggestions_agency", "phrasing_suggestions", ["agency"])
    op.create_index("ix_phrasing_suggestions_status", "phrasing_suggestions", ["status"])


def downgrade() -> None:
    """Drop ``phrasing_suggestions`` (the links are lost; the kb files keep what editors accepted)."""
    op.drop_table("phrasing_suggestions")
