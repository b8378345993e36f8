"""Staged rollouts of components and the servers' health reports (issue 24).

On a live database: three new tables, empty, and one nullable column on tuf_metadata
(existing rows keep NULL: the next sync signs a targets version with the rollouts'
revision). Downgrading drops every rollout and health report: a version still rolling out
then becomes current for every server at the next sync.

Revision ID: e6f7a8b9c0d3
Revises: d4e5f6a7b8c1
Create Date: 2026-12-07 22:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e6f7a8b9c0d3"
down_revision: str | None = "d4e5f6a7b8c1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "component_rollouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("rings", sa.JSON(), nullable=False),
        sa.Column("step_hours", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ring", sa.Integer(), nullable=False),
        sa.Column("halted", sa.Boolean(), nullable=False),
        sa.Column("halted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("halt_reason", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("pulled_version", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component_rollouts")),
        sa.UniqueConstraint("version_id", name=op.f("uq_component_rollouts_version_id")),
    )
    with op.batch_alter_table("component_rollouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_component_rollouts_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_component_rollouts_rev"), ["rev"], unique=False)
    op.create_table(
        "component_health",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.String(length=64), nullable=False),
        sa.Column("component", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("clients", sa.Integer(), nullable=False),
        sa.Column("loaded", sa.Integer(), nullable=False),
        sa.Column("load_failures", sa.Integer(), nullable=False),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.Column("scan_errors", sa.Integer(), nullable=False),
        sa.Column("crashes", sa.Integer(), nullable=False),
        sa.Column("detections", sa.Integer(), nullable=False),
        sa.Column("quarantines", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component_health")),
        sa.UniqueConstraint(
            "server_id", "component", "version", name=op.f("uq_component_health_server_id")
        ),
    )
    with op.batch_alter_table("component_health", schema=None) as batch_op:
        batch_op.create_index(
            "ix_component_health_component_version", ["component", "version"], unique=False
        )
    op.create_table(
        "health_reporters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.String(length=64), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_report_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_reporters")),
        sa.UniqueConstraint("server_id", name=op.f("uq_health_reporters_server_id")),
    )
    with op.batch_alter_table("tuf_metadata", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rollout_rev", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tuf_metadata", schema=None) as batch_op:
        batch_op.drop_column("rollout_rev")
    op.drop_table("health_reporters")
    with op.batch_alter_table("component_health", schema=None) as batch_op:
        batch_op.drop_index("ix_component_health_component_version")
    op.drop_table("component_health")
    with op.batch_alter_table("component_rollouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_component_rollouts_rev"))
        batch_op.drop_index(batch_op.f("ix_component_rollouts_state"))
    op.drop_table("component_rollouts")
