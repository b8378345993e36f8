"""Real-time scan switch, Damage Cleanup requests, outbreak prevention policies.

New tables only: safe to run on a live database.

Revision ID: c7e2f3a4b5c6
Revises: b6d1e2f3a4b5
Create Date: 2026-11-27 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7e2f3a4b5c6"
down_revision: str | None = "b6d1e2f3a4b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "realtime_defaults",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realtime_scan", sa.Boolean(), nullable=False),
        sa.Column("realtime_folders", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_realtime_defaults")),
    )
    op.create_table(
        "client_realtime",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("realtime_scan", sa.Boolean(), nullable=False),
        sa.Column("realtime_folders", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("running", sa.Boolean(), nullable=True),
        sa.Column("running_reported_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_client_realtime_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_realtime")),
    )
    op.create_table(
        "cleanup_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("paths", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_cleanup_requests_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleanup_requests")),
    )
    with op.batch_alter_table("cleanup_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cleanup_requests_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cleanup_requests_status"), ["status"], unique=False)
    op.create_table(
        "outbreak_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("deny_write_shares", sa.JSON(), nullable=False),
        sa.Column("block_ports", sa.JSON(), nullable=False),
        sa.Column("deny_files", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbreak_policies")),
    )
    op.create_table(
        "outbreak_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=True),
        sa.Column("reported_at", sa.DateTime(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_outbreak_assignments_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["outbreak_policies.id"],
            name=op.f("fk_outbreak_assignments_policy_id_outbreak_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbreak_assignments")),
        sa.UniqueConstraint("client_id", name=op.f("uq_outbreak_assignments_client_id")),
    )
    with op.batch_alter_table("outbreak_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbreak_assignments_policy_id"), ["policy_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("outbreak_assignments")
    op.drop_table("outbreak_policies")
    op.drop_table("cleanup_requests")
    op.drop_table("client_realtime")
    op.drop_table("realtime_defaults")
