"""Clients: registered clients, one-time install tokens, virus log, connection status log.

New tables only: safe to run on a live database.

Revision ID: b6d1e2f3a4b5
Revises: a5c0d1e2f3a4
Create Date: 2026-11-27 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b6d1e2f3a4b5"
down_revision: str | None = "a5c0d1e2f3a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("os", sa.String(length=255), nullable=False),
        sa.Column("agent_version", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=16), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(), nullable=False),
        sa.Column("enrolled_ip", sa.String(length=64), nullable=False),
        sa.Column("last_contact_at", sa.DateTime(), nullable=False),
        sa.Column("last_ip", sa.String(length=64), nullable=False),
        sa.Column("last_heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("last_status", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_clients_token_hash")),
        sa.UniqueConstraint("uid", name=op.f("uq_clients_uid")),
    )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clients_hostname"), ["hostname"], unique=False)
    op.create_table(
        "install_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=16), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_install_tokens_client_id_clients"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_install_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_install_tokens_token_hash")),
    )
    op.create_table(
        "virus_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("scan_type", sa.String(length=16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("threat", sa.String(length=255), nullable=False),
        sa.Column("component", sa.String(length=32), nullable=True),
        sa.Column("component_version", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=255), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_virus_log_client_id_clients"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_virus_log")),
    )
    with op.batch_alter_table("virus_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_virus_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_virus_log_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_virus_log_threat"), ["threat"], unique=False)
    op.create_table(
        "connection_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_connection_log_client_id_clients"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection_log")),
    )
    with op.batch_alter_table("connection_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connection_log_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_connection_log_client_id"), ["client_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("connection_log")
    op.drop_table("virus_log")
    op.drop_table("install_tokens")
    op.drop_table("clients")
