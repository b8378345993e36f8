"""Status checks carry the balancer's request id (status_checks.request_id, unique).

nginx names every request it forwards (`X-Request-Id: $request_id`) and sends a status
check that a dying node never answered to another node with the same id; the history
insert skips an id already written (`services.status_log`), so a retried check is one row.

One nullable column (catalog-only on PostgreSQL) and a unique index. Building the index
reads status_checks once and holds inserts into it meanwhile (seconds per million rows);
answering is not affected, only the history writes wait.

Revision ID: b1c2d3e4f5a6
Revises: a7b8c9d0e1f2
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b1c2d3e4f5a6"
down_revision: str | None = "a7b8c9d0e1f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("status_checks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_status_checks_request_id"), ["request_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("status_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_checks_request_id"))
        batch_op.drop_column("request_id")
