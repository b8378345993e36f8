"""Durable mail to the administrator: mail_notices.attempts, next_attempt_at and
lease_until, so a notice the SMTP server did not take is retried with back-off and one
claimed by a process that died is taken again.

Three columns added in batch mode (the mail_notices table holds a few rows per month):
safe to run on a live database. Existing rows count as never attempted.

Revision ID: c3d4e5f6a7b8
Revises: e1f2a3b4c5d6
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3d4e5f6a7b8"
down_revision: str | None = "e1f2a3b4c5d6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_notices") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mail_notices") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
