"""The administrator's pilot group for new components (issue 24).

On a live database: two new tables, empty (pilot mode off, no pilot clients); nothing existing
is touched. Downgrading drops the pilot settings and the pilot membership.

Revision ID: a4b5c6d7e8f9
Revises: f3e4d5c6b7a9
Create Date: 2026-12-07 23:08:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a4b5c6d7e8f9"
down_revision: str | None = "f3e4d5c6b7a9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pilot_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("promote_hours", sa.Integer(), nullable=True),
        sa.Column("pilot_manifest_id", sa.Integer(), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pilot_settings")),
    )
    op.create_table(
        "pilot_clients",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_pilot_clients")),
    )


def downgrade() -> None:
    op.drop_table("pilot_clients")
    op.drop_table("pilot_settings")
