"""The client update log keeps what a client reported as a code and its parameters, so the
Web manager shows it in the reader's language; rows written before keep their text. The
virus log keeps the reporting client's id and address (two hosts may share a name).

Nullable columns added in batch mode: no data is rewritten. On a large virus_log, SQLite's
batch mode copies the table once; run it in a maintenance window.

Revision ID: e1f2a3b4c5d6
Revises: d5e6f7a8b9c0
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e1f2a3b4c5d6"
down_revision: str | None = "d5e6f7a8b9c0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("update_log_client") as batch:
        batch.add_column(sa.Column("message_code", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("message_params", sa.JSON(), nullable=True))
    with op.batch_alter_table("virus_log") as batch:
        batch.add_column(sa.Column("client_uid", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("ip", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("virus_log") as batch:
        batch.drop_column("ip")
        batch.drop_column("client_uid")
    with op.batch_alter_table("update_log_client") as batch:
        batch.drop_column("message_params")
        batch.drop_column("message_code")
