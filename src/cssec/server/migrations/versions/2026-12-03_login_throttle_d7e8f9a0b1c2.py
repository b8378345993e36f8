"""Login failure counts in the database (`cssec.web.lockout_db`): login_throttle_sources
(per name and source: failures, refused until) and login_throttle_failures (a name's
failures within the ceiling's window), so every worker shares them and a restart keeps
them. Two new tables: safe to run on a live database; counts start empty.

Revision ID: d7e8f9a0b1c2
Revises: c3d4e5f6a7b8
Create Date: 2026-12-03 08:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d7e8f9a0b1c2"
down_revision: str | None = "c3d4e5f6a7b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle_sources",
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure", sa.Float(), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("name_key", "source", name=op.f("pk_login_throttle_sources")),
    )
    op.create_table(
        "login_throttle_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttle_failures")),
    )
    op.create_index(
        "ix_login_throttle_failures_name_key_at", "login_throttle_failures", ["name_key", "at"]
    )
    op.create_index("ix_login_throttle_failures_at", "login_throttle_failures", ["at"])


def downgrade() -> None:
    op.drop_index("ix_login_throttle_failures_at", table_name="login_throttle_failures")
    op.drop_index("ix_login_throttle_failures_name_key_at", table_name="login_throttle_failures")
    op.drop_table("login_throttle_failures")
    op.drop_table("login_throttle_sources")
