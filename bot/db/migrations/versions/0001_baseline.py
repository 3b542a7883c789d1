"""Baseline: the schema of the last release before Alembic (tickets, replies, events, agents, feedback, deliveries).

Revision ID: 0001
Revises:
Create Date: 2026-12-02

Databases made by that release (no ``alembic_version`` table) are not created again: ``bot.db.legacy`` completes
them to this schema and stamps them with this revision.
"""

from __future__ import annotations

from typing import Sequence, Union

from alembic import op

from bot.db.migrations import baseline

revision: str = "0001"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create every table of the baseline schema, with its indexes and constraints."""
    baseline.metadata.create_all(op.get_bind(), checkfirst=False)


def downgrade() -> None:
    """Drop every table of the baseline schema."""
    baseline.metadata.drop_all(op.get_bind(), checkfirst=False)
