"""Status checks record the seats in use the server reported (status_checks.seats_used).

One nullable column, no default: on PostgreSQL a catalog-only change, no table rewrite,
safe on the large status_checks table of a live service. SQLite takes it in batch mode.

Revision ID: f1a2b3c4d5e6
Revises: 3b9c17c96f76
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1a2b3c4d5e6"
down_revision: str | None = "3b9c17c96f76"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("status_checks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seats_used", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("status_checks", schema=None) as batch_op:
        batch_op.drop_column("seats_used")
