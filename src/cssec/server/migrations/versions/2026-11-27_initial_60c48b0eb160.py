"""Initial schema: server identity, license slots, users, sessions, system events.

Revision ID: 60c48b0eb160
Revises:
Create Date: 2026-11-27 20:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "60c48b0eb160"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "server_info",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.String(length=64), nullable=False),
        sa.Column("vendor_url", sa.String(length=500), nullable=False),
        sa.Column("install_mode", sa.String(length=16), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.Column("latest_seen", sa.DateTime(), nullable=False),
        sa.Column("rollback_logged_for", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_info")),
    )
    op.create_table(
        "license_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=8), nullable=False),
        sa.Column("activation_code", sa.String(length=31), nullable=False),
        sa.Column("version_type", sa.String(length=16), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("confirmed_online", sa.Boolean(), nullable=False),
        sa.Column("statement", sa.JSON(), nullable=True),
        sa.Column("statement_issued_at", sa.DateTime(), nullable=True),
        sa.Column("activated_at", sa.DateTime(), nullable=False),
        sa.Column("last_success", sa.DateTime(), nullable=True),
        sa.Column("last_attempt", sa.DateTime(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_license_slots")),
        sa.UniqueConstraint("product", name=op.f("uq_license_slots_product")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)
    op.create_table(
        "system_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("message_ja", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_events")),
    )
    with op.batch_alter_table("system_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_system_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_system_events_kind"), ["kind"], unique=False)


def downgrade() -> None:
    op.drop_table("system_events")
    op.drop_table("web_sessions")
    op.drop_table("users")
    op.drop_table("license_slots")
    op.drop_table("server_info")
