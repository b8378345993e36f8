"""Components and updates: accepted manifests, the current/previous switch, update logs.

Revision ID: a5c0d1e2f3a4
Revises: 60c48b0eb160
Create Date: 2026-11-27 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a5c0d1e2f3a4"
down_revision: str | None = "60c48b0eb160"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "component_manifests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component_manifests")),
    )
    op.create_table(
        "component_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("current_manifest_id", sa.Integer(), nullable=True),
        sa.Column("previous_manifest_id", sa.Integer(), nullable=True),
        sa.Column("held_serial", sa.BigInteger(), nullable=True),
        sa.Column("last_poll_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["current_manifest_id"],
            ["component_manifests.id"],
            name=op.f("fk_component_status_current_manifest_id_component_manifests"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_manifest_id"],
            ["component_manifests.id"],
            name=op.f("fk_component_status_previous_manifest_id_component_manifests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component_status")),
    )
    op.create_table(
        "update_log_server",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=64), nullable=True),
        sa.Column("serial", sa.BigInteger(), nullable=True),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("message_ja", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_update_log_server")),
    )
    with op.batch_alter_table("update_log_server") as batch:
        batch.create_index(batch.f("ix_update_log_server_at"), ["at"], unique=False)
        batch.create_index(batch.f("ix_update_log_server_result"), ["result"], unique=False)
    op.create_table(
        "update_log_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_update_log_client")),
    )
    with op.batch_alter_table("update_log_client") as batch:
        batch.create_index(batch.f("ix_update_log_client_at"), ["at"], unique=False)
        batch.create_index(batch.f("ix_update_log_client_client_id"), ["client_id"], unique=False)
        batch.create_index(batch.f("ix_update_log_client_result"), ["result"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("update_log_client") as batch:
        batch.drop_index(batch.f("ix_update_log_client_result"))
        batch.drop_index(batch.f("ix_update_log_client_client_id"))
        batch.drop_index(batch.f("ix_update_log_client_at"))
    op.drop_table("update_log_client")
    with op.batch_alter_table("update_log_server") as batch:
        batch.drop_index(batch.f("ix_update_log_server_result"))
        batch.drop_index(batch.f("ix_update_log_server_at"))
    op.drop_table("update_log_server")
    op.drop_table("component_status")
    op.drop_table("component_manifests")
