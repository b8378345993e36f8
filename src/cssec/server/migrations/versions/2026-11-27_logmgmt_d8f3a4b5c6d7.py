"""Outbreak monitor settings and alerts, log management (retention) settings.

New tables only: safe to run on a live database.

Revision ID: d8f3a4b5c6d7
Revises: c7e2f3a4b5c6
Create Date: 2026-11-27 23:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d8f3a4b5c6d7"
down_revision: str | None = "c7e2f3a4b5c6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbreak_monitor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("min_detections", sa.Integer(), nullable=False),
        sa.Column("min_clients", sa.Integer(), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("cooldown_minutes", sa.Integer(), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("smtp_host", sa.String(length=255), nullable=True),
        sa.Column("smtp_port", sa.Integer(), nullable=False),
        sa.Column("mail_from", sa.String(length=255), nullable=True),
        sa.Column("mail_to", sa.String(length=1000), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbreak_monitor")),
    )
    op.create_table(
        "outbreak_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("detections", sa.Integer(), nullable=False),
        sa.Column("clients", sa.Integer(), nullable=False),
        sa.Column("threats", sa.JSON(), nullable=False),
        sa.Column("hostnames", sa.JSON(), nullable=False),
        sa.Column("threshold", sa.JSON(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("notified", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbreak_alerts")),
    )
    with op.batch_alter_table("outbreak_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbreak_alerts_raised_at"), ["raised_at"], unique=False
        )
    op.create_table(
        "log_management",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("virus_days", sa.Integer(), nullable=False),
        sa.Column("update_days", sa.Integer(), nullable=False),
        sa.Column("system_event_days", sa.Integer(), nullable=False),
        sa.Column("connection_days", sa.Integer(), nullable=False),
        sa.Column("last_auto_purge_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_management")),
    )


def downgrade() -> None:
    op.drop_table("log_management")
    with op.batch_alter_table("outbreak_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbreak_alerts_raised_at"))
    op.drop_table("outbreak_alerts")
    op.drop_table("outbreak_monitor")
