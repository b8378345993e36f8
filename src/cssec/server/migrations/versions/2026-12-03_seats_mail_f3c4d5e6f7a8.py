"""Seat accounting and mail to the administrator: license_slots.seats_over_since, the SMTP
settings and the mail notices sent.

Two new tables and one nullable column added in batch mode (quick on the small
license_slots table): safe to run on a live database.

Revision ID: f3c4d5e6f7a8
Revises: e9a4b5c6d7e8
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3c4d5e6f7a8"
down_revision: str | None = "e9a4b5c6d7e8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("license_slots") as batch:
        batch.add_column(sa.Column("seats_over_since", sa.DateTime(), nullable=True))
    op.create_table(
        "mail_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("smtp_host", sa.String(length=255), nullable=True),
        sa.Column("smtp_port", sa.Integer(), nullable=False),
        sa.Column("security", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("password", sa.String(length=255), nullable=True),
        sa.Column("sender", sa.String(length=255), nullable=True),
        sa.Column("recipients", sa.String(length=1000), nullable=True),
        sa.Column("failure_threshold", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_settings")),
    )
    op.create_table(
        "mail_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("subject_ja", sa.String(length=500), nullable=False),
        sa.Column("subject_en", sa.String(length=500), nullable=False),
        sa.Column("body_ja", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_notices")),
        sa.UniqueConstraint("key", name=op.f("uq_mail_notices_key")),
    )
    with op.batch_alter_table("mail_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_notices_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_notices_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mail_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_notices_status"))
        batch_op.drop_index(batch_op.f("ix_mail_notices_kind"))
    op.drop_table("mail_notices")
    op.drop_table("mail_settings")
    with op.batch_alter_table("license_slots") as batch:
        batch.drop_column("seats_over_since")
