"""Clients' component health reports, kept for the vendor's staged rollouts (issue 24).

On a live database: one new table, empty; nothing existing is touched. Downgrading drops
what clients reported (they report again at their next heartbeat).

Revision ID: f3e4d5c6b7a9
Revises: f1e2d3c4b5a7
Create Date: 2026-12-07 22:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3e4d5c6b7a9"
down_revision: str | None = "f1e2d3c4b5a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client_component_health",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("loaded", sa.Integer(), nullable=False),
        sa.Column("load_failures", sa.Integer(), nullable=False),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.Column("scan_errors", sa.Integer(), nullable=False),
        sa.Column("crashes", sa.Integer(), nullable=False),
        sa.Column("detections", sa.Integer(), nullable=False),
        sa.Column("quarantines", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_component_health")),
        sa.UniqueConstraint(
            "client_id", "component", "version", name=op.f("uq_client_component_health_client_id")
        ),
    )
    with op.batch_alter_table("client_component_health", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_client_component_health_client_id"), ["client_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("client_component_health", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_component_health_client_id"))
    op.drop_table("client_component_health")
