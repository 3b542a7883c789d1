"""Staff identity, API tokens and back-office tables.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

- ``agents``: ``agencies`` (NULL = every agency), ``totp_secret`` and ``totp_last_step`` (second factor),
  ``external_subject`` (OpenID Connect accounts).
- ``api_tokens``: named tokens with scopes, stored as SHA-256.
- ``canned_replies``: prepared replies per department.
- ``kb_drafts``: the editors' review queue.

Written out here, not imported, so that this revision keeps meaning what it meant when the models change again.
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add the account columns and create the three tables."""
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("agencies", sa.JSON, nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer, nullable=True))
        batch.add_column(sa.Column("external_subject", sa.String(255), nullable=True))
        batch.create_unique_constraint("uq_agents_external_subject", ["external_subject"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True, index=True),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("agencies", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("department", sa.String(60), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(80), nullable=False),
    )
    op.create_index("ix_canned_replies_department", "canned_replies", ["department"])
    op.create_table(
        "kb_drafts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agency", sa.String(40), nullable=True),
        sa.Column("path", sa.String(400), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("base_sha", sa.String(64), nullable=False),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(80), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_kb_drafts_agency", "kb_drafts", ["agency"])
    op.create_index("ix_kb_drafts_status", "kb_drafts", ["status"])


def downgrade() -> None:
    """Drop the three tables and the account columns (second factors, OIDC links and agency scopes are lost)."""
    op.drop_index("ix_kb_drafts_status", table_name="kb_drafts")
    op.drop_index("ix_kb_drafts_agency", table_name="kb_drafts")
    op.drop_table("kb_drafts")
    op.drop_index("ix_canned_replies_department", table_name="canned_replies")
    op.drop_table("canned_replies")
    op.drop_table("api_tokens")
    with op.batch_alter_table("agents") as batch:
        batch.drop_constraint("uq_agents_external_subject", type_="unique")
        batch.drop_column("external_subject")
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_secret")
        batch.drop_column("agencies")
