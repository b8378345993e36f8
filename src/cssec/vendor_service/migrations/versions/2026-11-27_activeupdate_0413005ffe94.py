"""ActiveUpdate: component_versions (the files live in data_dir/activeupdate/<sha256>).

Version 1 of each component is seeded at start (`cssec.vendor_service.activeupdate.seed`), not
here: the migration cannot write the blob store, and a row without its file is useless.

Revision ID: 0413005ffe94
Revises: 5c1e0a7d2b41
Create Date: 2026-11-27 20:42:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0413005ffe94"
down_revision: str | None = "5c1e0a7d2b41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "component_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component_versions")),
        sa.UniqueConstraint("component", "version", name=op.f("uq_component_versions_component")),
    )
    with op.batch_alter_table("component_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_component_versions_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("component_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_component_versions_sha256"))
    op.drop_table("component_versions")
