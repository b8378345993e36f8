"""ActiveUpdate as a TUF repository: tuf_metadata, the signed metadata files as served.

A new table only: safe on a live database (nothing existing is rewritten or locked).

Revision ID: f4d5e6f7a8b9
Revises: f2b3c4d5e6f7
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f4d5e6f7a8b9"
down_revision: str | None = "f2b3c4d5e6f7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tuf_metadata",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=True),
        sa.Column("root_version", sa.Integer(), nullable=False),
        sa.Column("endorsement", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tuf_metadata")),
        sa.UniqueConstraint("role", "version", name=op.f("uq_tuf_metadata_role")),
    )


def downgrade() -> None:
    op.drop_table("tuf_metadata")
