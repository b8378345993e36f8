"""License slots remember a signed revocation (state 失効 / revoked).

One nullable column added in batch mode: quick on the small license_slots table.

Revision ID: e9a4b5c6d7e8
Revises: d8f3a4b5c6d7
Create Date: 2026-12-03 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e9a4b5c6d7e8"
down_revision: str | None = "d8f3a4b5c6d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("license_slots") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("license_slots") as batch:
        batch.drop_column("revoked_at")
